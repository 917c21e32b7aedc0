import IDCardContract

/// Per-client request rate and job quota, enforced for the whole fleet of `serve` processes in
/// Redis (Redis's clock), the way ``RateGate`` enforces the provider's.
///
/// - **Rate**: GCRA over requests: a client may send `requestsPerSecond` on average and a burst
///   of `burst` at once; a request beyond that is refused with the time until one would pass.
///   Every request counts, also one answered from a stored result.
/// - **Quota**: jobs charged per period (a UTC day, a UTC month, or ever). A job is charged once
///   per id for as long as its result lives, so a client retrying a request that timed out, or
///   one whose job still runs, pays once.
///
/// One script decides both, so concurrent requests of a client on different processes cannot
/// both take its last unit.
public final class ClientLimiter: Sendable {
    public struct Limits: Sendable, Equatable {
        public enum Period: String, Sendable, Equatable {
            case day, month, total
        }

        /// Requests per second on average; 0 = no limit.
        public var requestsPerSecond: Double
        /// Requests that may come at once; default a second's worth (at least 1).
        public var burst: Int
        /// Jobs per ``period``; 0 = no quota (usage is still counted).
        public var quota: Int
        public var period: Period

        public init(requestsPerSecond: Double = 0, burst: Int? = nil, quota: Int = 0, period: Period = .total) {
            self.requestsPerSecond = requestsPerSecond
            self.burst = burst ?? max(1, Int(requestsPerSecond.rounded(.up)))
            self.quota = quota
            self.period = period
        }
    }

    public enum Decision: Sendable, Equatable {
        /// Go on; `charged` jobs were counted against the quota now (the others had been before).
        case admitted(charged: Int)
        /// Over the request rate: no request would pass before this long.
        case tooManyRequests(retryAfter: Duration)
        /// The quota of this period is used up (`used` jobs charged in it).
        case quotaExhausted(used: Int)
    }

    private let redis: RedisClient
    private let prefix: String
    /// How long a charge of a job id is remembered: the results' lifetime.
    private let chargeSeconds: Int

    public init(queue: JobQueue, prefix: String, chargeSeconds: Int) {
        self.redis = queue.redis
        self.prefix = prefix
        self.chargeSeconds = max(1, chargeSeconds)
    }

    /// Counts one request of `client` and charges the jobs among `jobIDs` not charged before.
    /// Nothing is charged when the request is refused.
    public func admit(client: String, limits: Limits, jobIDs: [String]) async throws -> Decision {
        let keys = ClientKeys(prefix: prefix, client: client)
        let reply = try await redis.run(
            Self.admitScript,
            keys: ["requests": keys.requests, "usage": keys.usage],
            restKeys: jobIDs.map(keys.charged),
            arguments: [
                "rate": .string(String(limits.requestsPerSecond)),
                "burst": .int(limits.burst),
                "quota": .int(limits.quota),
                "period": .string(limits.period.rawValue),
                "chargeSeconds": .int(chargeSeconds),
            ],
            absentKey: keys.absent
        )
        guard let parts = reply.array, parts.count == 2, let verdict = parts[0].int, let value = parts[1].int else {
            throw RedisError.unexpectedReply("client admit returned \(reply)")
        }
        switch verdict {
        case 0: return .admitted(charged: value)
        case 1: return .tooManyRequests(retryAfter: .microseconds(Int64(value)))
        default: return .quotaExhausted(used: value)
        }
    }

    /// Jobs charged to `client` in the period counting now, and the period's name (`d<days since
    /// 1970>`, `m<yyyymm>` or `total`); `(0, nil)` before its first job.
    public func usage(client: String) async throws -> (count: Int, period: String?) {
        let keys = ClientKeys(prefix: prefix, client: client)
        let reply = try await redis.send("HMGET", .string(keys.usage), "count", "period").array ?? []
        let count = reply.first.flatMap { $0.string.flatMap { Int($0) } } ?? 0
        return (count, reply.count > 1 ? reply[1].string : nil)
    }
}
