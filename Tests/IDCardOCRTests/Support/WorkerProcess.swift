import Foundation
import IDCardTestSupport

/// A real `idcard-ocr worker` (or `serve`) child process, to kill -9 and SIGTERM like an orchestrator would.
final class WorkerProcess {
    let process = Process()
    let logURL: URL
    /// The exit status, once: Foundation reaps the child and calls the termination handler.
    private let exit = AsyncStream<Int32>.makeStream(bufferingPolicy: .bufferingNewest(1))

    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["IDCARD_OCR_BIN"] { return URL(fileURLWithPath: path) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/idcard-ocr")
    }

    init(environment: [String: String], arguments: [String] = ["worker"]) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary.path) else {
            throw TestSupportError(
                "\(Self.binary.path) is missing: run `swift build` before `swift test` (scripts/test does)"
            )
        }
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("idocr-worker-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process.executableURL = Self.binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = log
        process.standardError = log
        let exited = exit.continuation
        process.terminationHandler = { process in
            exited.yield(process.terminationStatus)
            exited.finish()
        }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the process to exit and returns its exit status; SIGKILLs it after `timeout`
    /// and returns nil then. Called once per process.
    func waitForExit(timeout: Double = 30) async -> Int32? {
        let exit = self.exit.stream
        let status = await withTaskGroup(of: Int32?.self) { group in
            group.addTask {
                for await status in exit { return status }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(timeout))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let status else {
            await RedisServer.end(process, signal: SIGKILL)
            return nil
        }
        return status
    }

    deinit {
        if RedisServer.hasNotExited(process.processIdentifier) { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: logURL)
    }
}
