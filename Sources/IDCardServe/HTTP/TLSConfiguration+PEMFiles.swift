import NIOSSL

extension TLSConfiguration {
    /// A server's TLS from PEM files, as operators hold them (cert-manager's `tls.crt`/`tls.key`):
    /// the certificate chain, the server's own certificate first, and its private key. The one
    /// way the project loads a server certificate: `serve`'s HTTPS and the tests' servers.
    public static func server(certificateChainFile: String, keyFile: String) throws -> TLSConfiguration {
        makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificateChainFile).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
        )
    }
}
