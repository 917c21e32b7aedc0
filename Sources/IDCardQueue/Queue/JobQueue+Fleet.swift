import Foundation
import IDCardContract

/// The fleet as Redis records it: who is registered, what each holds and says of itself.
extension JobQueue {
    /// Every registered worker, the most recent heartbeat first, with its jobs in flight (the
    /// length of its processing list), its pause and its ``WorkerInfo``. A worker past
    /// `heartbeatTimeout` is listed, not alive, until a reaper takes its jobs back.
    public func workerStatuses(
        heartbeatTimeout: Double = JobQueue.defaultHeartbeatTimeout
    ) async throws
        -> [WorkerStatus]
    {
        let workers = (try await redis.send("ZRANGE", .string(keys.workers), "0", "-1", "REV").array ?? [])
            .compactMap(\.string)
        let reply = try await runScript(
            QueueScripts.fleet,
            keys: ["workers": keys.workers, "paused": keys.paused, "workerInfo": keys.workerInfo],
            restKeys: workers.map(keys.processing),
            rest: workers.map { .string($0) }
        )
        guard let parts = reply.array, parts.count == 2, let now = parts[0].int else {
            throw RedisError.unexpectedReply("fleet returned \(reply)")
        }
        return (parts[1].array ?? []).compactMap { entry in
            guard let fields = entry.array, fields.count == 5, let worker = fields[0].string,
                let beat = fields[1].string.flatMap(Double.init).flatMap({ Int64(exactly: $0.rounded()) })
            else { return nil }
            let age = max(0, Int64(now) - beat)
            return WorkerStatus(
                worker: worker,
                lastHeartbeatMilliseconds: beat,
                heartbeatAgeMilliseconds: age,
                inFlight: fields[2].int ?? 0,
                pausedReason: fields[3].string.flatMap { $0.isEmpty ? nil : $0 },
                info: fields[4].data.flatMap(WorkerInfo.init(encoded:)),
                isAlive: Double(age) <= heartbeatTimeout * 1000
            )
        }
    }
}
