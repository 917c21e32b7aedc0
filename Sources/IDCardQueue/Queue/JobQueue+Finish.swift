import Foundation

/// A worker's last step with a job: each ends in exactly one atomic script.
extension JobQueue {
    /// Everything that happens when a job ends, written in one step.
    public struct Completion: Sendable {
        public var job: ReceivedJob
        public var worker: String
        /// Result JSON to store under the job's id; `nil` keeps what is stored (a deduplicated job).
        public var result: Data?
        /// A dead letter to push, when the job failed for good.
        public var deadLetter: DeadLetter.Encoding?
        /// A recognition to remember for identical image bytes: (the gate's image key, recognition JSON).
        public var imageCache: (key: String, recognition: Data)?
        public var resultTTLSeconds: Int
        /// Take the next pending job in the same step, saving its own round trip: set while a worker
        /// is taking jobs, so a busy slot goes from one job to the next in one step.
        public var takeNext = false

        public init(
            job: ReceivedJob, worker: String, result: Data?, deadLetter: DeadLetter.Encoding? = nil,
            imageCache: (key: String, recognition: Data)? = nil, resultTTLSeconds: Int
        ) {
            self.job = job
            self.worker = worker
            self.result = result
            self.deadLetter = deadLetter
            self.imageCache = imageCache
            self.resultTTLSeconds = resultTTLSeconds
        }
    }

    /// What ending a job gave back.
    public struct Ending: Sendable {
        /// `false` when the job was no longer in this worker's hands (the reaper took it back while
        /// this worker was presumed dead); the result is stored all the same.
        public var wasStillOurs: Bool
        /// The job taken with ``Completion/takeNext``, now in this worker's processing list.
        public var next: ReceivedJob?
    }

    /// Stores the result, releases the job, pushes the dead letter and the `replyTo` message, all or
    /// nothing; with ``Completion/takeNext``, also takes the next job.
    @discardableResult
    public func finish(_ completion: Completion) async throws -> Ending {
        let id = completion.job.id
        let unused = keys.base + "none"
        let reply = try await redis.run(
            QueueScripts.finish,
            keys: [
                keys.processing(completion.worker), id.map(keys.result) ?? unused, keys.attempts, keys.dead,
                completion.imageCache.map { keys.image($0.key) } ?? unused, completion.job.replyTo ?? unused, keys.finished,
                keys.pending,
            ],
            arguments: [
                .data(completion.job.element),
                id == nil ? "" : .data(completion.result ?? Data()),
                .int(completion.resultTTLSeconds),
                .string(id ?? ""),
                .data(completion.deadLetter?.head ?? Data()),
                .data(completion.imageCache?.recognition ?? Data()),
                completion.job.replyTo == nil ? "0" : "1",
                completion.deadLetter == nil ? "0" : "1",
                completion.takeNext ? "1" : "0",
                .string(completion.deadLetter?.embedding.rawValue ?? ""),
                .data(completion.deadLetter?.tail ?? Data()),
            ]
        )
        guard let parts = reply.array, let removed = parts.first?.int else {
            throw RedisError.unexpectedReply("finish returned \(reply)")
        }
        return Ending(wasStillOurs: removed == 1, next: parts.dropFirst().first?.data.map(ReceivedJob.init(element:)))
    }

    /// Length of the unique prefix that keeps identical elements apart in the `delayed` set.
    static let delayedMemberPrefixLength = 17

    /// Schedules the job's next attempt `delay` from now, counting the attempt in Redis.
    public func scheduleRetry(_ job: ReceivedJob, id: String, worker: String, after delay: Duration, attemptsMade: Int) async throws {
        let prefix = String(UInt64.random(in: .min ... .max), radix: 16).leftPadded(to: Self.delayedMemberPrefixLength - 1) + ":"
        _ = try await redis.run(
            QueueScripts.retry, keys: [keys.processing(worker), keys.delayed, keys.attempts],
            arguments: [.data(job.element), .int(Int(delay / .milliseconds(1))), .string(prefix), .string(id), .int(attemptsMade)]
        )
    }

    /// Gives a job back to the front of `pending` untouched, without spending an attempt.
    public func release(_ job: ReceivedJob, worker: String) async throws {
        _ = try await redis.run(QueueScripts.release, keys: [keys.processing(worker), keys.pending], arguments: [.data(job.element)])
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
