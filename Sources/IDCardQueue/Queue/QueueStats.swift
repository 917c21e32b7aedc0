import IDCardContract

/// Queue depths as `stats --json` prints them (docs/contract.md, "Command line"), and what `stats --watch` adds.
public struct QueueStats: Sendable, Equatable, Codable {
    public var queue: String
    public var pending: Int
    /// Jobs held by worker processes (including dead ones not yet reaped).
    public var processing: Int
    /// Retries waiting for their time.
    public var delayed: Int
    public var dead: Int
    /// Worker processes with a recent heartbeat.
    public var workers: Int
    /// Of those, paused by an account or configuration error (not in `--json`: the contract fixes its keys).
    public var pausedWorkers = 0
    /// Jobs finished since the queue's first job, by outcome (not in `--json`).
    public var succeeded = 0
    public var failed = 0
    /// Attempts rescheduled since the queue's first job (not in `--json`).
    public var retried = 0
    /// How long the oldest pending job has waited since its `enqueuedAt` (Redis's clock); `nil`
    /// with nothing pending, no `enqueuedAt` near either end of its element, or when not asked
    /// for (``JobQueue/stats(heartbeatTimeout:oldestWait:)``; not in `--json`).
    public var oldestWaitMilliseconds: Int?
    /// Set while an operator holds the queue (``JobQueue/pause(by:reason:)``; not in `--json`).
    public var pause: QueuePause?

    public init(queue: String, pending: Int, processing: Int, delayed: Int, dead: Int, workers: Int) {
        self.queue = queue
        self.pending = pending
        self.processing = processing
        self.delayed = delayed
        self.dead = dead
        self.workers = workers
    }

    enum CodingKeys: String, CodingKey { case queue, pending, processing, delayed, dead, workers }
}
