import DequeModule
import Foundation
import IDCardContract
import NIOConcurrencyHelpers
import NIOPosix

/// A pipelined hiredis connection served by its own thread.
///
/// Commands from any number of tasks queue in an outbox; one thread writes everything queued in
/// one go and reads the replies back in order. Under load a round trip carries many jobs' steps
/// (automatic pipelining), so the cost of a round trip — the thread wake-ups and syscalls that
/// dominate a worker's CPU — is shared; an idle client still sends a lone command at once.
/// Blocking hiredis calls run on that thread, never on Swift's cooperative pool. Commands are not
/// cancelled once queued: writes such as "store the result" must land even while the caller is
/// being cancelled.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let threadPool: NIOThreadPool
    private let connection: RedisConnection
    private let outbox = NIOLockedValueBox(Outbox())
    private let scriptSHAs = NIOLockedValueBox<[String: String]>([:])
    private let counts = NIOLockedValueBox(Counts())

    private typealias Queued = (command: [RedisArgument], reply: CheckedContinuation<RedisValue, Error>)

    private struct Outbox {
        var queued: Deque<Queued> = []
        var flushing = false
        var closed = false

        /// The oldest queued commands, up to `maxBytes` of arguments (at least one command), so a burst
        /// of large commands (finishes carrying 100 KB images) never builds one huge write buffer.
        mutating func nextBatch(maxBytes: Int) -> [Queued] {
            var batch: [Queued] = []
            var bytes = 0
            while let first = queued.first {
                let size = first.command.reduce(0) { $0 + $1.byteCount }
                if !batch.isEmpty && bytes + size > maxBytes { break }
                bytes += size
                batch.append(queued.removeFirst())
            }
            if batch.isEmpty { flushing = false }
            return batch
        }
    }

    /// Most argument bytes one round trip carries.
    static let maxBatchBytes = 1 << 20

    private struct Counts {
        var commands: [String: Int] = [:]
        var roundTrips = 0
        var brokenConnections = 0
    }

    /// Commands sent so far, by command name or script name: how tests check that a job costs
    /// the few steps it should.
    public var commandCounts: [String: Int] { counts.withLockedValue { $0.commands } }

    /// Writes to Redis so far, each carrying one or more commands.
    public var roundTrips: Int { counts.withLockedValue { $0.roundTrips } }

    /// Connections that broke with commands on them so far, or were left for a new master: each
    /// may have lost replies of commands that did run, or left writes behind on the old master (a
    /// take whose job is now in a list with no one holding it).
    public var brokenConnections: Int { counts.withLockedValue { $0.brokenConnections } }

    /// - Parameter readTimeoutSeconds: how long one reply may take; longer than any blocking command's timeout.
    public init(configuration: RedisConfiguration, readTimeoutSeconds: Double? = nil) {
        self.configuration = configuration
        self.connection = RedisConnection(
            configuration: configuration,
            readTimeoutSeconds: readTimeoutSeconds ?? configuration.timeoutSeconds
        )
        self.threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
    }

    /// Has the next command start on a new connection: the master moved (`READONLY`, Sentinel's
    /// `+switch-master`). Counted as a broken connection: for a moment two servers took writes,
    /// and what this client did on the old one may not be on the new one.
    public func reconnectSoon() {
        counts.withLockedValue { $0.brokenConnections += 1 }
        connection.dropSoon()
    }

    /// Has the next command go to the replica a Sentinel is promoting, once it is the master
    /// (``RedisConnection/followPromotion(host:port:)``). Counted as a broken connection, as
    /// ``reconnectSoon()`` is.
    func followPromotion(host: String, port: Int) {
        counts.withLockedValue { $0.brokenConnections += 1 }
        connection.followPromotion(host: host, port: port)
    }

    /// Stops the thread and closes the connection. Commands sent afterwards fail with ``RedisError/closed``.
    public func shutdown() async {
        outbox.withLockedValue { $0.closed = true }
        try? await threadPool.shutdownGracefully()
        connection.close()
    }

    /// Sends one command. An error reply throws ``RedisError/server(_:)``.
    public func send(_ arguments: [RedisArgument]) async throws -> RedisValue {
        try await send(arguments, label: arguments.first?.description ?? "")
    }

    private func send(_ arguments: [RedisArgument], label: String) async throws -> RedisValue {
        counts.withLockedValue { $0.commands[label, default: 0] += 1 }
        let reply = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<RedisValue, Error>) in
            let isFirst = outbox.withLockedValue { outbox -> Bool? in
                if outbox.closed { return nil }
                outbox.queued.append((arguments, continuation))
                defer { outbox.flushing = true }
                return !outbox.flushing
            }
            switch isFirst {
            case nil: continuation.resume(throwing: RedisError.closed)
            case true?: startFlushing()
            case false?: break  // the running flush takes it with its next batch
            }
        }
        if case .error(let message) = reply {
            let error = RedisError.server(message)
            if error.needsReconnect { reconnectSoon() }
            throw error
        }
        return reply
    }

    public func send(_ arguments: RedisArgument...) async throws -> RedisValue {
        try await send(arguments)
    }

    private func startFlushing() {
        threadPool.submit { state in
            guard case .active = state else { return self.failQueued() }
            self.flush()
        }
    }

    /// The thread is gone (shutdown raced a send): whatever is queued fails.
    private func failQueued() {
        let batch = outbox.withLockedValue { outbox in
            defer { outbox.queued.removeAll() }
            outbox.flushing = false
            return outbox.queued
        }
        for entry in batch { entry.reply.resume(throwing: RedisError.closed) }
    }

    /// Runs on the client's thread until the outbox is empty: each pass sends everything queued as one pipeline.
    private func flush() {
        while true {
            let batch = outbox.withLockedValue { $0.nextBatch(maxBytes: Self.maxBatchBytes) }
            if batch.isEmpty { return }
            counts.withLockedValue { $0.roundTrips += 1 }
            var broke = false
            connection.pipeline(batch.map(\.command)) { index, reply in
                if case .failure(let error) = reply, error.code == .connection { broke = true }
                batch[index].reply.resume(with: reply.mapError { $0 as Error })
            }
            if broke { counts.withLockedValue { $0.brokenConnections += 1 } }
        }
    }

    /// Runs a Lua script by its SHA-1, loading it first when Redis does not know it
    /// (first use, or after a Redis restart flushed the script cache).
    /// Runs `script` with its keys and arguments by name (``RedisScript``); `absentKey` stands in
    /// for an optional key given as `nil`.
    public func run(
        _ script: RedisScript,
        keys: KeyValuePairs<String, String?>,
        arguments: KeyValuePairs<String, RedisArgument> = [:],
        rest: [RedisArgument] = [],
        absentKey: String
    ) async throws -> RedisValue {
        var command: [RedisArgument] = ["EVALSHA", ""]
        command.append(
            contentsOf: try script.operands(keys: keys, arguments: arguments, rest: rest, absentKey: absentKey)
        )
        for _ in 0..<3 {
            let sha = try await loadedSHA(of: script)
            command[1] = .string(sha)
            do {
                return try await send(command, label: script.name)
            } catch let error as RedisError where error.code == .server && error.message.hasPrefix("NOSCRIPT") {
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
}
