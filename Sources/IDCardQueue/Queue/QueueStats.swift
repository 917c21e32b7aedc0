/// Queue depths as `stats --json` prints them (contract §7).
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
