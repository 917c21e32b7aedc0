import Foundation
import NIOPosix

/// Steps the wall clock of a process started with ``environment`` (a `redis-server`): its
/// `gettimeofday`, `clock_gettime(CLOCK_REALTIME)` and `time` run ahead or behind by what
/// ``shift(by:)`` last set; its monotonic clock is left alone, as an NTP step leaves it.
///
/// Debian's libfaketime does the same but deadlocks in Debian's redis-server, whose jemalloc
/// reads the clock while libfaketime is still starting (libfaketime issue #130); this preload
/// (`scripts/lib/clockshift.c`) calls the kernel directly and allocates nothing. Built with `cc`
/// on first use.
public final class ClockShift: Sendable {
    public let file: URL

    public init() throws {
        file = FileManager.default.temporaryDirectory.appendingPathComponent("idocr-clockshift-\(UUID().uuidString)")
        try Data("0".utf8).write(to: file)
    }

    /// The environment that makes a process read its wall clock through this shift (the preload
    /// built on NIO's thread pool the first time, not on the cooperative one).
    public func environment() async throws -> [String: String] {
        let library = try await NIOThreadPool.singleton.runIfActive { try Self.library() }
        return ["LD_PRELOAD": library.path, "CLOCKSHIFT_FILE": file.path]
    }

    /// From now on the process's wall clock reads `offset` from the real one (negative: behind).
    /// It sees the change within 2 ms.
    public func shift(by offset: Duration) throws {
        let staged = file.appendingPathExtension("new")
        try Data(String(offset / .microseconds(1)).utf8).write(to: staged)
        guard rename(staged.path, file.path) == 0 else { throw TestSupportError("cannot write \(file.path)") }
    }

    deinit { try? FileManager.default.removeItem(at: file) }

    private static let built = Result { () throws -> URL in
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "idocr-clockshift-\(ProcessInfo.processInfo.processIdentifier)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let library = directory.appendingPathComponent("clockshift.so")
        let compiler = Process()
        compiler.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
        compiler.arguments = ["-shared", "-fPIC", "-O2", "-o", library.path, source.path]
        guard FileManager.default.fileExists(atPath: source.path) else {
            throw TestSupportError("\(source.path) is missing")
        }
        try compiler.run()
        compiler.waitUntilExit()
        guard compiler.terminationStatus == 0 else {
            throw TestSupportError("cc could not build the clock-shift preload")
        }
        return library
    }

    private static func library() throws -> URL { try built.get() }

    /// The preload's C source, shared with `scripts/chaos`.
    private static var source: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("scripts/lib/clockshift.c")
    }
}
