import IDCardContract
import NIOConcurrencyHelpers
import NIOPosix

@testable import IDCardQueue

/// Waits for a key to be written by listening to Redis's keyspace notifications for it, rather
/// than asking every few milliseconds: a test wakes when the worker writes, not at its next poll.
///
/// A connection of its own on a thread of its own, as ``SentinelWatch`` does: a subscribed
/// hiredis connection blocks its thread until a message comes.
enum KeyWrites {
    /// What the listening thread saw.
    private enum Event: Sendable {
        /// Subscribed: every write from now on is announced, so look once, then wait.
        case subscribed
        case written
        /// The server refused or went away: the caller polls instead.
        case lost
    }

    enum Outcome: Sendable {
        case done
        case timedOut
        /// No notifications to be had (a user without `CONFIG` or `SUBSCRIBE`, a connection lost
        /// in a failover): the caller polls.
        case unavailable
    }

    /// Waits until `isDone` holds, asking it once subscribed and again after each write of `key`.
    static func wait(
        for key: String,
        redis: RedisClient,
        timeout: Duration,
        until isDone: @escaping @Sendable () async throws -> Bool
    ) async throws -> Outcome {
        // String commands (`$`) on keys (`K`): the scripts write results with SET.
        let enabled = try? await redis.send("CONFIG", "SET", "notify-keyspace-events", "K$")
        guard enabled?.string == "OK" else { return .unavailable }
        let channel = "__keyspace@0__:" + key
        let (events, continuation) = AsyncStream.makeStream(of: Event.self)
        let stopped = NIOLockedValueBox(false)
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        thread.submit { state in
            guard case .active = state else { return }
            let connection = RedisConnection(configuration: redis.configuration, readTimeoutSeconds: 0.2)
            do {
                try connection.listen(
                    to: [channel],
                    subscribed: { continuation.yield(.subscribed) },
                    shouldStop: { stopped.withLockedValue { $0 } },
                    message: { _, _ in continuation.yield(.written) }
                )
            } catch {
                continuation.yield(.lost)
            }
            continuation.finish()
        }
        defer {
            // The thread notices within its read timeout; nothing waits for it.
            stopped.withLockedValue { $0 = true }
            thread.shutdownGracefully { _ in }
        }
        return try await withThrowingTaskGroup(of: Outcome.self) { group in
            group.addTask {
                try await Task.sleep(for: timeout)
                return .timedOut
            }
            group.addTask {
                for await event in events {
                    switch event {
                    case .subscribed, .written: if try await isDone() { return .done }
                    case .lost: return .unavailable
                    }
                }
                return .unavailable
            }
            let first = try await group.next() ?? .unavailable
            group.cancelAll()
            return first
        }
    }
}
