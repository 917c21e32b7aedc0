import Foundation
import IDCardContract
import IDCardQueue
import NIOPosix

/// A real `redis-server` on a free loopback port, for tests and benchmarks.
public final class RedisServer: Sendable {
    public let port: Int
    public let directory: URL
    private let process: Process
    private let extraArguments: [String]
    private let environment: [String: String]
    public let tls: TLS?

    /// A server that speaks only TLS (`--port 0 --tls-port …`), with a certificate from
    /// ``TestCertificates`` naming `localhost`.
    public struct TLS: Sendable {
        public var certificates: TestCertificates
        /// `tls-auth-clients yes`: only clients showing a certificate the test CA signed get in.
        public var requireClientCertificate: Bool

        public init(certificates: TestCertificates, requireClientCertificate: Bool = false) {
            self.certificates = certificates
            self.requireClientCertificate = requireClientCertificate
        }

        /// What a client needs to trust this server's certificate.
        public var client: RedisConfiguration.TLS { RedisConfiguration.TLS(caFile: certificates.caFile) }

        var arguments: [String] {
            [
                "--tls-cert-file", certificates.serverCertificateFile, "--tls-key-file",
                certificates.serverKeyFile, "--tls-ca-cert-file", certificates.caFile, "--tls-auth-clients",
                requireClientCertificate ? "yes" : "no",
            ]
        }
    }

    /// `rediss://localhost:…` for a TLS server: the name its certificate carries.
    public var url: String { tls == nil ? "redis://127.0.0.1:\(port)/0" : "rediss://localhost:\(port)/0" }
    public var configuration: RedisConfiguration { RedisConfiguration(host: "127.0.0.1", port: port) }

    /// Starts a server and waits until its log says it accepts connections (on NIO's thread pool:
    /// tests run many at once, and a wait on the cooperative pool would stall every other test
    /// meanwhile). Not until something answers PING: a port picked and released may be taken by
    /// another process before this server binds it, and a test would then talk to a stranger that
    /// goes away when its own test ends. On a port it picked, the server tries another such port.
    /// - Parameters:
    ///   - arguments: extra `redis-server` arguments, e.g. `["--appendonly", "yes"]`.
    ///   - port: a port to listen on (``restart()``); none picks a free one.
    ///   - environment: added to the server's, e.g. ``ClockShift/environment`` to step its clock.
    public init(
        arguments: [String] = [],
        port: Int? = nil,
        directory: URL? = nil,
        environment: [String: String] = [:],
        tls: TLS? = nil
    ) async throws {
        let directory =
            directory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("idocr-test-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.directory = directory
        extraArguments = arguments
        self.environment = environment
        self.tls = tls
        var attempt = 0
        while true {
            attempt += 1
            let chosen = try port ?? FreePort.pick()
            let log = directory.appendingPathComponent("redis.log")
            // A restart appends to the log of the server before it: only what follows counts.
            let logStart = (try? Data(contentsOf: log).count) ?? 0
            let listening =
                tls.map { ["--port", "0", "--tls-port", "\(chosen)"] + $0.arguments } ?? ["--port", "\(chosen)"]
            let process = try Self.launch(
                directory: directory,
                arguments: listening + arguments,
                environment: environment
            )
            let pid = process.processIdentifier
            let ready = try await NIOThreadPool.singleton.runIfActive {
                try Self.waitUntilReady(log: log, after: logStart, pid: pid)
            }
            if ready {
                self.port = chosen
                self.process = process
                return
            }
            await Self.end(process, signal: SIGKILL)
            guard port == nil, attempt < 5 else {
                throw TestSupportError("redis-server could not listen on port \(chosen): another process holds it")
            }
        }
    }

    private static func launch(
        directory: URL,
        arguments: [String],
        environment: [String: String]
    ) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.currentDirectoryURL = directory
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.arguments =
            [
                "--bind", "127.0.0.1", "--save", "", "--dir", directory.path, "--daemonize", "no",
                "--logfile", directory.appendingPathComponent("redis.log").path,
            ] + arguments
        try process.run()
        return process
    }

    /// True once the server's log past `after` bytes says it accepts connections: it has bound
    /// the port, so the server answering there is this one (a PING may be answered by a stranger
    /// holding the port, and a server may refuse an anonymous PING or INFO). False if it exited
    /// first: the port was taken.
    private static func waitUntilReady(log: URL, after logStart: Int, pid: Int32) throws -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let data = try? Data(contentsOf: log), data.count > logStart,
                String(decoding: data.dropFirst(logStart), as: UTF8.self).contains("Ready to accept connections")
            {
                return hasNotExited(pid)
            }
            guard hasNotExited(pid) else { return false }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw TestSupportError("redis-server did not start within 10 s; see \(log.path)")
    }

    /// Asks the server to exit (`SHUTDOWN NOSAVE`), then waits for it. Not SIGTERM: `Process` starts
    /// the child with the spawning thread's signal mask, and the test process's threads block
    /// SIGTERM, so the server would sit out `end`'s 10 s deadline.
    public func stop() async {
        let port = port
        // A TLS server takes no plain SHUTDOWN, and holds nothing a test reads afterwards.
        if tls != nil { await Self.end(process, signal: SIGKILL) }
        _ = try? await NIOThreadPool.singleton.runIfActive {
            try FreePort.exchange(port: port, send: "SHUTDOWN NOSAVE\r\n", expectPrefix: "-")
        }
        await Self.end(process, signal: SIGTERM)
        try? FileManager.default.removeItem(at: directory)
    }

    /// False once the server has exited (``kill()``, ``stop()``, or a crash).
    public var isRunning: Bool { Self.hasNotExited(process.processIdentifier) }

    /// Kills the server the hard way (SIGKILL), as a crash would.
    public func kill() async {
        await Self.end(process, signal: SIGKILL)
    }

    /// Signals a child and waits until it has exited, escalating to SIGKILL after 10 s.
    /// Polls without blocking a thread: `Process.waitUntilExit` spins a run loop that can miss the
    /// exit when called from Swift concurrency.
    public static func end(_ process: Process, signal: Int32) async {
        let pid = process.processIdentifier
        guard hasNotExited(pid) else { return }
        Foundation.kill(pid, signal)
        let deadline = ContinuousClock.now + .seconds(10)
        while hasNotExited(pid) {
            if ContinuousClock.now > deadline { Foundation.kill(pid, SIGKILL) }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// False once the process is gone or a zombie waiting to be reaped.
    public static func hasNotExited(_ pid: Int32) -> Bool {
        guard pid > 0, Foundation.kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].drop(while: { $0 == " " }).first
        return state != "Z" && state != "X"
    }

    /// Starts a new server on the same port and directory (after ``kill()``), keeping AOF data.
    public func restart() async throws -> RedisServer {
        try await RedisServer(
            arguments: extraArguments,
            port: port,
            directory: directory,
            environment: environment,
            tls: tls
        )
    }

    deinit {
        if Self.hasNotExited(process.processIdentifier) { Foundation.kill(process.processIdentifier, SIGKILL) }
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
