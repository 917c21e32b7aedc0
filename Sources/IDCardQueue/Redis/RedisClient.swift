import Foundation
import NIOConcurrencyHelpers
import NIOPosix

/// A small pool of hiredis connections served by its own threads.
///
/// Every command runs on the pool's threads, so a slow or blocking Redis call never holds a
/// thread of Swift's cooperative pool. A connection is taken inside the thread, so there are
/// never more connections than threads. Commands are not cancelled once handed to Redis:
/// writes such as "store the result" must land even while the caller is being cancelled.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let threadPool: NIOThreadPool
    private let idle: NIOLockedValueBox<[RedisConnection]>
    private let readTimeoutSeconds: Double
    private let scriptSHAs = NIOLockedValueBox<[String: String]>([:])
    private let counts = NIOLockedValueBox<[String: Int]>([:])

    /// Round trips sent so far, by command name or script name: how tests and benchmarks
    /// check that a job costs the few round trips it should.
    public var roundTrips: [String: Int] { counts.withLockedValue { $0 } }

    /// - Parameters:
    ///   - threads: commands that may run at once (and connections opened).
    ///   - readTimeoutSeconds: how long one reply may take; longer than any blocking command's timeout.
    public init(configuration: RedisConfiguration, threads: Int = 4, readTimeoutSeconds: Double? = nil) {
        self.configuration = configuration
        self.readTimeoutSeconds = readTimeoutSeconds ?? configuration.timeoutSeconds
        self.threadPool = NIOThreadPool(numberOfThreads: threads)
        self.idle = NIOLockedValueBox([])
        threadPool.start()
    }

    /// Stops the threads and closes the connections. Commands sent afterwards fail with ``RedisError/closed``.
    public func shutdown() async {
        try? await threadPool.shutdownGracefully()
        let connections = idle.withLockedValue { pool in
            defer { pool.removeAll() }
            return pool
        }
        for connection in connections { connection.close() }
    }

    /// Sends one command. An error reply throws ``RedisError/server(_:)``.
    public func send(_ arguments: [RedisArgument]) async throws -> RedisValue {
        try await send(arguments, label: arguments.first?.description ?? "")
    }

    private func send(_ arguments: [RedisArgument], label: String) async throws -> RedisValue {
        counts.withLockedValue { $0[label, default: 0] += 1 }
        let reply = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RedisValue, Error>) in
            threadPool.submit { state in
                guard case .active = state else {
                    continuation.resume(throwing: RedisError.closed)
                    return
                }
                let connection = self.checkOut()
                defer { self.checkIn(connection) }
                continuation.resume(with: Result { try connection.send(arguments) })
            }
        }
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    public func send(_ arguments: RedisArgument...) async throws -> RedisValue {
        try await send(arguments)
    }

    /// Runs a Lua script by its SHA-1, loading it first when Redis does not know it
    /// (first use, or after a Redis restart flushed the script cache).
    public func run(_ script: RedisScript, keys: [String], arguments: [RedisArgument]) async throws -> RedisValue {
        var command: [RedisArgument] = ["EVALSHA", "", .int(keys.count)]
        command.append(contentsOf: keys.map { .string($0) })
        command.append(contentsOf: arguments)
        for _ in 0..<3 {
            let sha = try await loadedSHA(of: script)
            command[1] = .string(sha)
            do {
                return try await send(command, label: script.name)
            } catch RedisError.server(let message) where message.hasPrefix("NOSCRIPT") {
                scriptSHAs.withLockedValue { $0[script.name] = nil }
            }
        }
        throw RedisError.server("NOSCRIPT after loading \(script.name) three times")
    }

    private func loadedSHA(of script: RedisScript) async throws -> String {
        if let sha = scriptSHAs.withLockedValue({ $0[script.name] }) { return sha }
        guard let sha = try await send("SCRIPT", "LOAD", .string(script.source)).string else {
            throw RedisError.unexpectedReply("SCRIPT LOAD of \(script.name) returned no SHA")
        }
        scriptSHAs.withLockedValue { $0[script.name] = sha }
        return sha
    }

    private func checkOut() -> RedisConnection {
        idle.withLockedValue { $0.popLast() }
            ?? RedisConnection(configuration: configuration, readTimeoutSeconds: readTimeoutSeconds)
    }

    private func checkIn(_ connection: RedisConnection) {
        idle.withLockedValue { $0.append(connection) }
    }
}
