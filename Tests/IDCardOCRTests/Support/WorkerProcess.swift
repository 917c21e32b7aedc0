import Foundation
import IDCardTestSupport

/// A real `idcard-ocr worker` child process, to kill -9 and SIGTERM like an orchestrator would.
final class WorkerProcess {
    let process = Process()
    let logURL: URL

    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["IDCARD_OCR_BIN"] { return URL(fileURLWithPath: path) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/idcard-ocr")
    }

    init(environment: [String: String]) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary.path) else {
            throw TestSupportError("\(Self.binary.path) is missing: run `swift build` before `swift test` (scripts/test does)")
        }
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("idocr-worker-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process.executableURL = Self.binary
        process.arguments = ["worker"]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the process to exit and returns its exit status; SIGKILLs it after `timeout`
    /// and returns nil then.
    func waitForExit(timeout: Double = 30) async -> Int32? {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while RedisServer.hasNotExited(pid) && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if RedisServer.hasNotExited(pid) {
            await RedisServer.end(process, signal: SIGKILL)
            return nil
        }
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        return process.terminationStatus
    }

    deinit {
        if RedisServer.hasNotExited(process.processIdentifier) { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: logURL)
    }
}
