import Logging

/// The Redis side of the contract for one queue: what producers, workers and operators do to it.
///
/// Producer calls are in `JobQueue+Produce`, a worker's steps in `JobQueue+Consume` and
/// `JobQueue+Finish`, the fleet's housekeeping in `JobQueue+Maintenance`, dead letters in
/// `JobQueue+DeadLetters`. Each step is one Redis round trip; multi-key steps are Lua scripts.
public final class JobQueue: Sendable {
    public let keys: QueueKeys
    let redis: RedisClient
    /// Blocking pops get their own thread and connection, so they never delay other commands.
    let blockingRedis: RedisClient

    public init(redis configuration: RedisConfiguration, keys: QueueKeys = QueueKeys(), threads: Int = 4, blockingTimeoutSeconds: Double = 1) {
        self.keys = keys
        self.redis = RedisClient(configuration: configuration, threads: threads)
        self.blockingRedis = RedisClient(
            configuration: configuration, threads: 1, readTimeoutSeconds: blockingTimeoutSeconds + configuration.timeoutSeconds
        )
    }

    /// Closes connections and stops the Redis threads.
    public func shutdown() async {
        await redis.shutdown()
        await blockingRedis.shutdown()
    }

    /// Round trips this queue made, by command or script name (both connections).
    public var roundTrips: [String: Int] {
        redis.roundTrips.merging(blockingRedis.roundTrips, uniquingKeysWith: +)
    }
}
