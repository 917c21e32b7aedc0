import Foundation

/// A real recognition server behind `RAPIDOCR_URL` on a free loopback port, for end-to-end tests:
/// the project's own (`recognizer/`, `.venv/bin/idocr-recognizer`) or the stock PyPI
/// `rapidocr_api`, both installed in `.venv` by `scripts/setup`.
public final class RapidOCRServer: Sendable {
    /// Which server: both answer `POST /ocr` the same way, and both are supported.
    public enum Kind: String, CaseIterable, Sendable {
        /// idcard-ocr's recognition server: OpenVINO, the classifier on a sample, a bounded queue.
        case ours = "idocr-recognizer"
        /// PyPI `rapidocr_api`, as it comes.
        case stock = "rapidocr_api"
    }

    public let port: Int
    public let kind: Kind
    private let process: Process
    private let log: URL

    /// The server's `/ocr` endpoint.
    public var url: String { "http://127.0.0.1:\(port)/ocr" }

    /// The server's log so far.
    public var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// `RAPIDOCR_API_BIN` (the stock server) or `.venv/bin/<kind>` under the working directory
    /// (the package root under `swift test`); nil when it does not exist.
    public static func executable(_ kind: Kind) -> URL? {
        let environment = ProcessInfo.processInfo.environment
        let candidates = [
            kind == .stock ? environment["RAPIDOCR_API_BIN"] : nil,
            FileManager.default.currentDirectoryPath + "/.venv/bin/\(kind.rawValue)",
        ]
        return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }.map(
            URL.init(fileURLWithPath:)
        )
    }

    /// Tests that need the servers run when both are installed, or when `IDOCR_REQUIRE_RAPIDOCR=1`
    /// (`scripts/test` sets it) so that a missing server fails instead of skipping.
    public static var shouldTest: Bool {
        Kind.allCases.allSatisfy { executable($0) != nil }
            || ProcessInfo.processInfo.environment["IDOCR_REQUIRE_RAPIDOCR"] == "1"
    }

    private init(kind: Kind, port: Int, process: Process, log: URL) {
        self.kind = kind
        self.port = port
        self.process = process
        self.log = log
    }

    /// Starts a server and waits (up to 120 s: it loads its models first) until it answers:
    /// `/readyz` for ours, `/` for the stock one. `environment`: settings for ours
    /// (`IDOCR_RECOGNIZER_*`).
    public static func start(_ kind: Kind = .ours, environment: [String: String] = [:]) async throws -> RapidOCRServer {
        guard let executable = executable(kind) else {
            throw TestSupportError(
                "no \(kind.rawValue): run scripts/setup (it installs .venv/bin/\(kind.rawValue))"
            )
        }
        let port = try FreePort.pick()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("idocr-\(kind.rawValue)-\(port).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        switch kind {
        case .stock:
            process.arguments = ["-ip", "127.0.0.1", "-p", "\(port)"]
        case .ours:
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }.merging([
                "IDOCR_RECOGNIZER_HOST": "127.0.0.1", "IDOCR_RECOGNIZER_PORT": "\(port)",
            ]) { $1 }
        }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let server = RapidOCRServer(kind: kind, port: port, process: process, log: log)
        let probe = kind == .ours ? "GET /readyz HTTP/1.0\r\n\r\n" : "GET / HTTP/1.0\r\n\r\n"
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            guard RedisServer.hasNotExited(process.processIdentifier) else { break }
            if (try? FreePort.exchange(port: port, send: probe, expectPrefix: "HTTP/1.1 200")) == true {
                return server
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let output = server.output
        await server.stop()
        throw TestSupportError("\(kind.rawValue) did not start on port \(port): \(output.suffix(2000))")
    }

    public func stop() async {
        await RedisServer.end(process, signal: SIGTERM)
        try? FileManager.default.removeItem(at: log)
    }

    deinit {
        if RedisServer.hasNotExited(process.processIdentifier) { kill(process.processIdentifier, SIGKILL) }
    }
}
