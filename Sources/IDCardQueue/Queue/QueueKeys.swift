/// Every Redis key of one queue. All carry the hash tag `{Q}`, so a queue lives in one Cluster slot.
///
/// Public keys (contract §1): `pending`, `dead`, `result:<id>`. The rest are internal.
public struct QueueKeys: Sendable, Equatable {
    public let prefix: String
    public let queue: String
    /// `P:{Q}:`, the start of every key.
    public let base: String

    public init(prefix: String = "idocr", queue: String = "idcard") {
        self.prefix = prefix
        self.queue = queue
        self.base = "\(prefix):{\(queue)}:"
    }

    /// LIST of jobs waiting; producers `LPUSH`, workers take from the right.
    public var pending: String { base + "pending" }
    /// LIST of dead letters, newest on the left.
    public var dead: String { base + "dead" }
    public func result(_ id: String) -> String { base + "result:" + id }

    /// LIST of the jobs one worker process holds; the reaper returns them when that worker dies.
    public func processing(_ worker: String) -> String { processingPrefix + worker }
    var processingPrefix: String { base + "processing:" }
    /// ZSET worker id → last heartbeat (Redis clock, ms).
    public var workers: String { base + "workers" }
    /// HASH worker id → why it is paused (account or configuration refused); ready workers are absent.
    public var paused: String { base + "paused" }
    /// HASH `succeeded` / `failed` → jobs finished so far, for rates in `stats --watch`.
    public var finished: String { base + "finished" }
    /// ZSET of retries waiting for their time (score: due, Redis clock ms).
    public var delayed: String { base + "delayed" }
    /// HASH job id → attempts made so far.
    public var attempts: String { base + "attempts" }
    /// STRING per element hash: how often a dead worker held it.
    var lostPrefix: String { base + "lost:" }
    /// STRING: the rate limiter's theoretical arrival time (µs, Redis clock).
    public var rate: String { base + "rate" }
    /// STRING: how far late calls have pushed the limiter's schedule back, in all (µs).
    public var ratePushed: String { base + "rate:pushed" }
    /// STRING per image SHA-256 and question asked: a recognition to reuse for identical bytes.
    public func image(_ key: String) -> String { base + "image:" + key }
}
