import Foundation

/// The fleet's housekeeping, run by every worker beside its jobs.
extension JobQueue {
    /// Records that `worker` is alive. Returns `true` when it had been dropped from the registry
    /// (first beat, or reaped after missing beats).
    @discardableResult
    public func heartbeat(worker: String, pausedReason: String? = nil) async throws -> Bool {
        try await redis.run(QueueScripts.heartbeat, keys: [keys.workers, keys.paused], arguments: [.string(worker), .string(pausedReason ?? "")]).int == 1
    }

    /// Returns the jobs of dead workers to `pending`. Jobs that were with a dying worker
    /// `maxLosses` times are set aside in `worker`'s own processing list and returned, for the
    /// caller to dead-letter as `worker_lost`.
    public func reap(
        worker: String, heartbeatTimeout: Double = JobQueue.defaultHeartbeatTimeout, maxLosses: Int = 3
    ) async throws -> (workersReaped: Int, setAside: [ReceivedJob]) {
        let reply = try await redis.run(
            QueueScripts.reap, keys: [keys.workers, keys.pending, keys.processing(worker), keys.paused],
            arguments: [
                .string(keys.processingPrefix), .int(Int(heartbeatTimeout * 1000)), .string(keys.lostPrefix),
                .int(maxLosses), .int(7 * 24 * 3600), .string(worker),
            ]
        )
        guard let parts = reply.array, let count = parts.first?.int else {
            throw RedisError.unexpectedReply("reap returned \(reply)")
        }
        return (count, parts.dropFirst().compactMap(\.data).map(ReceivedJob.init(element:)))
    }

    /// Moves up to `limit` retries whose time has come back to `pending`. Returns how many moved.
    @discardableResult
    public func promoteDueRetries(limit: Int = 500) async throws -> Int {
        try await redis.run(
            QueueScripts.promote, keys: [keys.delayed, keys.pending],
            arguments: [.int(limit), .int(Self.delayedMemberPrefixLength)]
        ).int ?? 0
    }

    /// The SHA-1 (hex) of each job in `worker`'s processing list.
    public func processingDigests(worker: String) async throws -> [String] {
        let reply = try await redis.run(QueueScripts.processingDigests, keys: [keys.processing(worker)], arguments: [])
        return (reply.array ?? []).compactMap(\.string)
    }

    /// Gives back to `pending` up to `count` jobs of each SHA-1 still in `worker`'s processing list.
    /// Returns how many moved.
    @discardableResult
    public func giveBack(worker: String, digests: [String: Int]) async throws -> Int {
        guard !digests.isEmpty else { return 0 }
        let arguments = digests.flatMap { [RedisArgument.string($0.key), .int($0.value)] }
        return try await redis.run(QueueScripts.giveBackByDigest, keys: [keys.processing(worker), keys.pending], arguments: arguments).int ?? 0
    }

    /// Leaves the fleet on a clean shutdown: anything still held goes back to `pending`.
    public func deregister(worker: String) async throws {
        _ = try await redis.run(
            QueueScripts.retire, keys: [keys.workers, keys.processing(worker), keys.pending, keys.paused], arguments: [.string(worker)]
        )
    }
}
