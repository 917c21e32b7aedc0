import NIOSSL

extension RedisConfiguration {
    /// *Extension*: TLS to Redis in the process, no tunnel (`rediss://`). The server's chain is
    /// checked against the system's roots or ``caFile``, and its name against ``serverName`` or
    /// the host connected to; a client certificate is shown when the server asks (mutual TLS).
    /// Every file is PEM, read when the first connection opens and again for every later one, so a
    /// rotated certificate is picked up by the next connection.
    public struct TLS: Sendable, Equatable {
        /// The CA bundle that signs the server's certificate; `nil`: the system's roots.
        public var caFile: String?
        /// The client's certificate chain and key, for a server with `tls-auth-clients yes`.
        public var certificateFile: String?
        public var keyFile: String?
        /// The name the server's certificate must carry, and the one sent as SNI; `nil`: the host
        /// connected to (for an IP address, the certificate must carry that address).
        public var serverName: String?

        public init(
            caFile: String? = nil,
            certificateFile: String? = nil,
            keyFile: String? = nil,
            serverName: String? = nil
        ) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.serverName = serverName
        }

        /// Reads every file now, throwing what is wrong with one, naming it: for a process to refuse
        /// to start on a bad file rather than find Redis unreachable.
        public func validate() throws(RedisError) {
            _ = try makeContext()
        }

        /// The TLS context for connections; throws what is wrong with a file, naming it.
        func makeContext() throws(RedisError) -> NIOSSLContext {
            var configuration = TLSConfiguration.makeClientConfiguration()
            do {
                if let caFile {
                    configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
                }
            } catch {
                throw .connection("cannot read the CA file \(caFile ?? ""): \(error)")
            }
            switch (certificateFile, keyFile) {
            case (nil, nil): break
            case (let certificateFile?, let keyFile?):
                do {
                    configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile)
                        .map { .certificate($0) }
                    configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
                } catch {
                    throw .connection(
                        "cannot read the client certificate \(certificateFile) or key \(keyFile): \(error)"
                    )
                }
            default:
                throw .connection("a client certificate needs both its file and its key's file")
            }
            do {
                return try NIOSSLContext(configuration: configuration)
            } catch {
                throw .connection("cannot make a TLS context: \(error)")
            }
        }
    }
}
