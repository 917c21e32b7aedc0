import Foundation
import HummingbirdTLS
import IDCardServe
import NIOPosix

/// A throwaway certificate authority and a server certificate it signs, made with `openssl` in a
/// temporary directory, plus a second authority that signed nothing: for testing what checks TLS.
public struct TestCertificates: Sendable {
    public let directory: URL
    /// PEM of the authority that signed the server's certificate.
    public var caFile: String { directory.appendingPathComponent("ca.pem").path }
    /// PEM of an authority that signed nothing here.
    public var otherCAFile: String { directory.appendingPathComponent("other-ca.pem").path }
    public var serverCertificateFile: String { directory.appendingPathComponent("server.pem").path }
    public var serverKeyFile: String { directory.appendingPathComponent("server.key").path }
    /// A client certificate and key the authority signed, for mutual TLS.
    public var clientCertificateFile: String { directory.appendingPathComponent("client.pem").path }
    public var clientKeyFile: String { directory.appendingPathComponent("client.key").path }

    /// Runs `openssl` on NIO's thread pool, not the cooperative one.
    /// - Parameter names: the server certificate's subjectAltName entries, e.g. `DNS:localhost`.
    public init(names: [String]) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("idocr-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data("subjectAltName=\(names.joined(separator: ","))\n".utf8).write(
            to: directory.appendingPathComponent("san")
        )
        let directory = directory
        try await NIOThreadPool.singleton.runIfActive {
            let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            try Self.openssl(
                in: directory,
                ["req", "-x509"] + key + [
                    "-days", "2", "-subj", "/CN=idocr test CA", "-keyout", "ca.key", "-out", "ca.pem",
                ]
            )
            try Self.openssl(
                in: directory,
                ["req", "-x509"] + key + [
                    "-days", "2", "-subj", "/CN=idocr other CA", "-keyout", "other-ca.key", "-out", "other-ca.pem",
                ]
            )
            try Self.signed("server", commonName: "idocr test server", extensions: ["-extfile", "san"], in: directory)
            try Self.signed("client", commonName: "idocr test client", extensions: [], in: directory)
        }
    }

    /// What a server presenting the signed certificate needs.
    public func serverTLS() throws -> TLSConfiguration {
        try TLSConfiguration.server(certificateChainFile: serverCertificateFile, keyFile: serverKeyFile)
    }

    public func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// `<name>.key` and `<name>.pem`, a certificate for it that `ca.pem` signs.
    private static func signed(
        _ name: String,
        commonName: String,
        extensions: [String],
        in directory: URL
    ) throws {
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(
            in: directory,
            ["req"] + key + ["-subj", "/CN=\(commonName)", "-keyout", "\(name).key", "-out", "\(name).csr"]
        )
        try openssl(
            in: directory,
            [
                "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-out", "\(name).pem",
            ] + extensions
        )
    }

    private static func openssl(in directory: URL, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestSupportError("openssl \(arguments.first ?? "") failed: is openssl installed?")
        }
    }
}
