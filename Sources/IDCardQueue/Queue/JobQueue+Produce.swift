import Foundation
import IDCardContract

/// What producers and operators do: enqueue, read results, look at depths.
extension JobQueue {
    /// Pushes a job onto `pending` (`LPUSH`, so jobs are taken in order).
    /// - Throws: ``JobError`` (`invalid_job`) for a `replyTo` outside the queue's namespace, which
    ///   a worker would refuse.
    public func enqueue(_ job: Job) async throws {
        try await enqueue([job])
    }

    /// Pushes many jobs in one command.
    public func enqueue(_ jobs: [Job]) async throws {
        guard !jobs.isEmpty else { return }
        for job in jobs {
            if let replyTo = job.replyTo, !keys.isReplyKey(replyTo) {
                throw JobError(.invalidJob, Job.replyToRule(replyPrefix: keys.replyPrefix))
            }
        }
        _ = try await redis.send(["LPUSH", .string(keys.pending)] + jobs.map { .data($0.encoded()) })
    }

    /// The stored result JSON of a job, exactly as the worker wrote it; `nil` when there is none (yet).
    public func resultData(id: String) async throws -> Data? {
        try await redis.send("GET", .string(keys.result(id))).data
    }

    public func result(id: String) async throws -> JobResult? {
        try await resultData(id: id).map(JobResult.decode)
    }

    /// Waits up to `timeoutSeconds` for one message on a `replyTo` list; `nil` on timeout.
    public func waitForReply(on list: String, timeoutSeconds: Double) async throws -> Data? {
        let reply = try await blockingRedis.send("BRPOP", .string(list), .seconds(timeoutSeconds))
        return reply.array.flatMap { $0.count == 2 ? $0[1].data : nil }
    }

    /// Up to `max` messages from a `replyTo` list, oldest first: waits up to `timeoutSeconds` for
    /// the first (`BRPOP`), then takes what else is there without waiting (`RPOP` with a count), so a
    /// reader that many jobs answer at once makes one round trip per batch, not per message.
    public func takeReplies(on list: String, timeoutSeconds: Double, max: Int) async throws -> [Data] {
        guard let first = try await waitForReply(on: list, timeoutSeconds: timeoutSeconds) else { return [] }
        guard max > 1 else { return [first] }
        let rest = try await blockingRedis.send("RPOP", .string(list), .int(max - 1)).array ?? []
        return [first] + rest.compactMap(\.data)
    }

    /// Depths of every state, read together by one script (after the list of registered workers,
    /// whose processing lists it counts).
    /// - Parameter oldestWait: also how long the oldest pending job has waited
    ///   (``QueueStats/oldestWaitMilliseconds``): Redis reads that element whole, so only the
    ///   dashboard asks.
    public func stats(
        heartbeatTimeout: Double = JobQueue.defaultHeartbeatTimeout,
        oldestWait: Bool = false
    ) async throws -> QueueStats {
        // The registered workers first: the script declares their processing lists.
        let workers = try await redis.send("ZRANGE", .string(keys.workers), "0", "-1").array ?? []
        let reply = try await runScript(
            QueueScripts.stats,
            keys: [
                "pending": keys.pending, "delayed": keys.delayed, "dead": keys.dead, "workers": keys.workers,
                "paused": keys.paused, "finished": keys.finished, "pause": keys.pause,
            ],
            restKeys: workers.compactMap(\.string).map(keys.processing),
            arguments: ["heartbeatTimeoutMs": .int(Int(heartbeatTimeout * 1000)), "oldestWait": .flag(oldestWait)]
        )
        guard let parts = reply.array, parts.count == 11 else {
            throw RedisError.unexpectedReply("stats returned \(reply)")
        }
        let values = parts.prefix(10).compactMap(\.int)
        guard values.count == 10 else { throw RedisError.unexpectedReply("stats returned \(reply)") }
        var stats = QueueStats(
            queue: keys.queue,
            pending: values[0],
            processing: values[1],
            delayed: values[2],
            dead: values[3],
            workers: values[4]
        )
        (stats.pausedWorkers, stats.succeeded, stats.failed, stats.retried) = (
            values[5], values[6], values[7], values[8]
        )
        stats.oldestWaitMilliseconds = values[9] >= 0 ? values[9] : nil
        stats.pause = parts[10].data.flatMap { $0.isEmpty ? nil : QueuePause(encoded: $0) }
        return stats
    }
}
