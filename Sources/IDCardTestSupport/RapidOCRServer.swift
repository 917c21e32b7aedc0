import Foundation

/// A real RapidOCR API server (PyPI `rapidocr_api`, installed in `.venv` by `scripts/setup`) on a
/// free loopback port, for end-to-end tests.
public final class RapidOCRServer: Sendable {
    public let port: Int
    private let process: Process
    private let log: URL

    /// The server's `/ocr` endpoint.
    public var url: String { "http://127.0.0.1:\(port)/ocr" }

    /// `RAPIDOCR_API_BIN`, else `.venv/bin/rapidocr_api` under the working directory (the package
    /// root under `swift test`); nil when neither exists.
    public static var executable: URL? {
        let environment = ProcessInfo.processInfo.environment
        let candidates = [
            environment["RAPIDOCR_API_BIN"], FileManager.default.currentDirectoryPath + "/.venv/bin/rapidocr_api",
        ]
        return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }.map(
            URL.init(fileURLWithPath:)
        )
    }

    /// Tests that need the server run when it is installed, or when `IDOCR_REQUIRE_RAPIDOCR=1`
    /// (`scripts/test` sets it) so that a missing server fails instead of skipping.
    public static var shouldTest: Bool {
        executable != nil || ProcessInfo.processInfo.environment["IDOCR_REQUIRE_RAPIDOCR"] == "1"
    }

    private init(port: Int, process: Process, log: URL) {
        self.port = port
        self.process = process
        self.log = log
    }

    /// Starts a server and waits (up to 120 s: it loads its models first) until it answers.
    public static func start() async throws -> RapidOCRServer {
        guard let executable else {
            throw TestSupportError(
                "no RapidOCR server: run scripts/setup (it installs .venv/bin/rapidocr_api) or set RAPIDOCR_API_BIN"
            )
        }
        let port = try FreePort.pick()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("idocr-rapidocr-\(port).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = ["-ip", "127.0.0.1", "-p", "\(port)"]
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let server = RapidOCRServer(port: port, process: process, log: log)
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            guard RedisServer.hasNotExited(process.processIdentifier) else { break }
            if (try? FreePort.exchange(port: port, send: "GET / HTTP/1.0\r\n\r\n", expectPrefix: "HTTP/1.1 200"))
                == true
            {
                return server
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        await server.stop()
        throw TestSupportError("the RapidOCR server did not start on port \(port): \(output.suffix(2000))")
    }

    public func stop() async {
        await RedisServer.end(process, signal: SIGTERM)
        try? FileManager.default.removeItem(at: log)
    }

    deinit {
        if RedisServer.hasNotExited(process.processIdentifier) { kill(process.processIdentifier, SIGKILL) }
    }
}
