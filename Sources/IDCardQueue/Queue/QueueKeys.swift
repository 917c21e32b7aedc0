import IDCardContract

/// Every Redis key of one queue. All carry the hash tag `{Q}`, so a queue lives in one Cluster slot.
///
/// Public keys (docs/contract.md, "Keys"): `pending`, `dead`, `result:<id>`, and the `reply:<name>` lists jobs
/// may name as `replyTo`. The rest are internal.
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
    /// How the failure of job `id` wrote its dead letter (head, embedding, tail, image digest), for
    /// a success of another copy of the job to take that letter back (*extension*; lives as long
    /// as the result).
    public func deadLetterOf(_ id: String) -> String { base + "letter:" + id }

    /// `P:{Q}:reply:`: every `replyTo` list starts with it (*extension*: the queue's own namespace,
    /// so no job can make a worker write to or expire another key).
    public var replyPrefix: String { base + "reply:" }
    /// The `replyTo` list named `name` (1–128 characters of `A-Za-z0-9._:-`, as job ids).
    public func reply(_ name: String) -> String { replyPrefix + name }

    /// True when `key` is a `replyTo` list of this queue: ``replyPrefix`` and a valid name.
    public func isReplyKey(_ key: String) -> Bool {
        Job.isReplyKey(key, replyPrefix: replyPrefix)
    }

    /// LIST of the jobs one worker process holds; the reaper returns them when that worker dies.
    public func processing(_ worker: String) -> String { processingPrefix + worker }
    var processingPrefix: String { base + "processing:" }
    /// ZSET worker id → last heartbeat (Redis clock, ms).
    public var workers: String { base + "workers" }
    /// HASH worker id → the epoch of its registration. A reaped worker is removed, so its steps
    /// (take, gate, finish, retry, give back) are refused until it registers anew.
    public var epochs: String { base + "epochs" }
    /// STRING: the last epoch handed out.
    var epochCounter: String { base + "epoch" }
    /// HASH worker id → why it is paused (account or configuration refused); ready workers are absent.
    public var paused: String { base + "paused" }
    /// HASH `succeeded` / `failed` → jobs finished so far, `retried` → attempts rescheduled, for
    /// rates in `stats --watch` and the dashboard.
    public var finished: String { base + "finished" }
    /// HASH worker id → what the worker says of itself (version, concurrency, host; JSON), written
    /// by its heartbeat, removed with its registration (*extension*).
    public var workerInfo: String { base + "workerinfo" }
    /// STRING, present while the queue is paused (who, when, why; JSON): no worker takes a job
    /// (*extension*; ``JobQueue/pause(by:reason:)``).
    public var pause: String { base + "pause" }
    /// LIST of the queue's recent samples, newest on the left, one per 10 s for an hour
    /// (*extension*; ``JobQueue/recordHistory(_:rate:)``).
    public var history: String { base + "history" }
    /// ZSET of retries waiting for their time (score: due, Redis clock ms).
    public var delayed: String { base + "delayed" }
    /// HASH job id → attempts made so far.
    public var attempts: String { base + "attempts" }
    /// HASH element fingerprint → how often a dying worker held it (*extension*).
    var lost: String { base + "lost" }
    /// ZSET element fingerprint → when it was last lost (Redis clock, ms): counts older than a week
    /// are forgotten (*extension*).
    var lostAt: String { base + "lostat" }
    /// HASH field → an element too large for any job that can succeed, refused at the take and
    /// kept whole beside its dead letter (which names the field) for `dlq requeue`.
    public var oversized: String { base + "oversized" }
    /// STRING per job id: the worker (and call) that is paying for this id right now; a second
    /// holder of the same id waits for its answer instead of paying again.
    public func claim(_ id: String) -> String { base + "claim:" + id }
    /// STRING per remembered-recognition key: the call paying for these image bytes right now.
    public func imageClaim(_ key: String) -> String { base + "claim-image:" + key }
    /// STRING: the rate limiter's theoretical arrival time (µs, Redis clock).
    public var rate: String { base + "rate" }
    /// STRING: how far late calls have pushed the limiter's schedule back, in all (µs).
    public var ratePushed: String { base + "rate:pushed" }
    /// HASH: the fleet's rate after rate-limit answers (``RateAdaptation``) and the schedule's generation.
    public var rateState: String { base + "rate:state" }
    /// STRING per image SHA-256 and question asked: a recognition to reuse for identical bytes.
    public func image(_ key: String) -> String { base + "image:" + key }
    /// A key no script reads or writes: carried in `KEYS` in place of an optional key a step gives
    /// as `nil` (scripts see `false`; see ``RedisScript``), in the queue's hash slot.
    var absent: String { base + "none" }
}
