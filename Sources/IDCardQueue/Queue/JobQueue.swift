import IDCardContract
import Logging

/// The Redis side of the contract for one queue: what producers, workers and operators do to it.
///
/// Producer calls are in `JobQueue+Produce`, a worker's steps in `JobQueue+Consume` and
/// `JobQueue+Finish`, the fleet's housekeeping in `JobQueue+Maintenance`, dead letters in
/// `JobQueue+DeadLetters`. Each step is one Redis command; multi-key steps are Lua scripts. Steps
/// of concurrent jobs share round trips (see ``RedisClient``).
public final class JobQueue: Sendable {
    public let keys: QueueKeys
    let redis: RedisClient
    /// Blocking pops get their own connection, so they never delay other commands.
    let blockingRedis: RedisClient
    /// With Sentinel: moves both connections to a new master as soon as it is announced.
    private let sentinelWatch: SentinelWatch?

    public init(
        redis configuration: RedisConfiguration,
        keys: QueueKeys = QueueKeys(),
        blockingTimeoutSeconds: Double = 1
    ) {
        self.keys = keys
        let blockingReadTimeout = blockingTimeoutSeconds + configuration.timeoutSeconds
        self.redis = RedisClient(configuration: configuration)
        self.blockingRedis = RedisClient(configuration: configuration, readTimeoutSeconds: blockingReadTimeout)
        self.replyDeadline = .milliseconds(Int64(blockingReadTimeout * 1000))
        self.sentinelWatch = configuration.sentinel.map { [redis, blockingRedis] sentinel in
            SentinelWatch(sentinel: sentinel, timeoutSeconds: configuration.timeoutSeconds, tls: configuration.tls) {
                move in
                for client in [redis, blockingRedis] {
                    switch move {
                    case .promoting(let host, let port): client.followPromotion(host: host, port: port)
                    case .switched: client.reconnectSoon()
                    }
                }
            }
        }
    }

    /// The longest a reply may take before its command counts as failed (the blocking take's).
    /// A command that failed may still have run; after this long, no reply of it can still come.
    public let replyDeadline: Duration

    /// Closes the connections.
    public func shutdown() async {
        await sentinelWatch?.shutdown()
        await redis.shutdown()
        await blockingRedis.shutdown()
    }

    /// Runs one of the queue's scripts, its keys and arguments by name; an optional key given as
    /// `nil` is carried as ``QueueKeys/absent``, in the queue's hash slot.
    func runScript(
        _ script: RedisScript,
        keys scriptKeys: KeyValuePairs<String, String?>,
        restKeys: [String] = [],
        arguments: KeyValuePairs<String, RedisArgument> = [:],
        rest: [RedisArgument] = []
    ) async throws -> RedisValue {
        try await redis.run(
            script,
            keys: scriptKeys,
            restKeys: restKeys,
            arguments: arguments,
            rest: rest,
            absentKey: keys.absent
        )
    }

    /// Commands this queue sent, by command or script name (both connections).
    public var commandCounts: [String: Int] {
        redis.commandCounts.merging(blockingRedis.commandCounts, uniquingKeysWith: +)
    }

    /// Round trips this queue made (both connections); below the commands' count when steps shared them.
    public var roundTrips: Int { redis.roundTrips + blockingRedis.roundTrips }

    /// Connections that broke with commands on them (both connections): each may have lost replies.
    public var brokenConnections: Int { redis.brokenConnections + blockingRedis.brokenConnections }
}
