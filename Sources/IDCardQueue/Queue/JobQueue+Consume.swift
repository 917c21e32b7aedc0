import Foundation

/// A worker's first steps with a job: take it, then pass the gate before paying for a call.
extension JobQueue {
    /// Moves up to `limit` of the oldest pending jobs into this worker's processing list, oldest
    /// first, without waiting; fewer once they add up to ``maxTakeBytes``. A job is never only in
    /// memory: if the process dies now, the reaper finds it in the processing list. Shares a round
    /// trip with other jobs' steps: the way to take while the queue has a backlog.
    public func take(worker: String, limit: Int) async throws -> [ReceivedJob] {
        let reply = try await redis.run(
            QueueScripts.take, keys: [keys.pending, keys.processing(worker)], arguments: [.int(limit), .int(Self.maxTakeBytes)]
        )
        return (reply.array ?? []).compactMap { $0.data.map(ReceivedJob.init(element:)) }
    }

    /// Most bytes of jobs one ``take(worker:limit:)`` brings: a reply is buffered whole (by hiredis,
    /// then copied out), so a take of 64 jobs of 100 KB images would briefly cost ~35 MB.
    static let maxTakeBytes = 512 << 10

    /// Moves the oldest pending job into this worker's processing list, waiting up to
    /// `timeoutSeconds` for one (`BLMOVE`, on its own connection): the way to take from an empty queue.
    public func waitForJob(worker: String, timeoutSeconds: Double) async throws -> ReceivedJob? {
        let reply = try await blockingRedis.send(
            "BLMOVE", .string(keys.pending), .string(keys.processing(worker)), "RIGHT", "LEFT",
            .seconds(timeoutSeconds)
        )
        return reply.data.map(ReceivedJob.init(element:))
    }

    /// What the gate decided for a job about to be recognised.
    public enum GateDecision: Sendable, Equatable {
        /// The id already has a succeeded result (given): do not pay again.
        case alreadySucceeded(Data)
        /// The same image bytes were recognised recently; this is that recognition.
        case cachedRecognition(Data)
        /// Call the recognizer after waiting this long: the job's reserved slot in the fleet's rate.
        /// `pushed`: how far late calls had pushed the schedule back when the slot was reserved.
        case proceed(after: Duration, pushed: Duration)
    }

    /// One round trip before a paid call: dedupe by id and by image bytes, then reserve a rate slot.
    ///
    /// A strict limiter counts calls as they arrive, so a call that left late lands among the
    /// on-time calls of later slots. The fleet keeps a running total of how far such calls have
    /// pushed its schedule back; a call that left `late` after a slot reserved when that total was
    /// `pushed` needs it to reach `pushed + late` before the slots after it are handed out.
    /// - Parameters:
    ///   - imageKey: names a remembered recognition (image SHA-256 and what was asked); `nil` to skip.
    ///   - rateInterval: the fleet's spacing between calls (1 / rate limit); `nil` for no limit.
    ///   - pushedTo: the total this worker's late calls need; the schedule moves back by what is
    ///     missing, by at most ``maxPushBack`` at once.
    /// - Returns: the decision and the attempts this job had already made.
    public func gate(
        jobID: String, imageKey: String?, rateInterval: Duration?, pushedTo: Duration = .zero
    ) async throws -> (GateDecision, attemptsMade: Int) {
        let intervalMicros = rateInterval.map { Int($0 / .microseconds(1)) } ?? 0
        let reply = try await redis.run(
            QueueScripts.gate,
            keys: [keys.result(jobID), keys.image(imageKey ?? "none"), keys.rate, keys.attempts, keys.ratePushed],
            arguments: [
                .string(jobID), .int(intervalMicros), imageKey == nil ? "0" : "1",
                .int(Int(pushedTo / .microseconds(1))), .int(Int(Self.maxPushBack / .microseconds(1))),
            ]
        )
        guard let parts = reply.array, parts.count == 4, let verdict = parts[0].string, let attempts = parts[2].int else {
            throw RedisError.unexpectedReply("gate returned \(reply)")
        }
        switch verdict {
        case "done": return (.alreadySucceeded(parts[1].data ?? Data()), attempts)
        case "cached": return (.cachedRecognition(parts[1].data ?? Data()), attempts)
        default: return (.proceed(after: .microseconds(parts[1].int ?? 0), pushed: .microseconds(parts[3].int ?? 0)), attempts)
        }
    }

    /// A call later than a second after its slot is outside every window its slot shared.
    public static let maxPushBack = Duration.seconds(1)

    /// Makes every worker of the fleet wait `duration` before its next call (after an HTTP 429 or -1009).
    public func coolDown(for duration: Duration) async throws {
        _ = try await redis.run(QueueScripts.coolDown, keys: [keys.rate], arguments: [.int(Int(duration / .microseconds(1)))])
    }
}
