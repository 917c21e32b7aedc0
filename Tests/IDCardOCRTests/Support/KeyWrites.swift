import IDCardContract
import NIOCore
import NIOPosix

@testable import IDCardQueue

/// Waits for a key to be written by listening to Redis's keyspace notifications for it, rather
/// than asking every few milliseconds: a test wakes when the worker writes, not at its next poll.
///
/// A subscribed connection of its own, as ``SentinelWatch`` has.
enum KeyWrites {
    /// What the subscription saw.
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
        let configuration = redis.configuration
        // Behind Sentinels the master moves during the test: poll there.
        guard configuration.sentinel == nil else { return .unavailable }
        let (events, continuation) = AsyncStream.makeStream(of: Event.self)
        let connector = RedisConnector(
            eventLoop: MultiThreadedEventLoopGroup.singleton.next(),
            timeoutSeconds: configuration.timeoutSeconds,
            tls: configuration.tls
        )
        let subscribing = connector.subscribe(
            host: configuration.host,
            port: configuration.port,
            login: RedisConnector.Login(
                username: configuration.username,
                password: configuration.password,
                database: configuration.database
            ),
            to: ["__keyspace@\(configuration.database)__:" + key],
            subscribed: { continuation.yield(.subscribed) },
            message: { _, _ in continuation.yield(.written) }
        )
        subscribing.whenComplete { result in
            switch result {
            case .success(let connection):
                connection.channel.closeFuture.whenComplete { _ in
                    continuation.yield(.lost)
                    continuation.finish()
                }
            case .failure:
                continuation.yield(.lost)
                continuation.finish()
            }
        }
        defer { subscribing.whenSuccess { $0.close() } }
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
