import Foundation
import IDCardContract

/// A worker's last step with a job: each ends in exactly one atomic script.
extension JobQueue {
    /// Everything that happens when a job ends, written in one step.
    public struct Completion: Sendable {
        /// The job, as taken (it names the registration it was taken under).
        public var job: ReceivedJob
        /// Result JSON to store under the job's id; `nil` keeps what is stored (a deduplicated job).
        public var result: Data?
        /// Which image the job asked about (``GateRequest/imageDigest``), when known. A success under
        /// an id that already succeeded with another image is not stored (``Ending/idConflict``); a
        /// failure under an id that succeeded with this image is a copy of that success
        /// (``Ending/copyOfSuccess``).
        public var imageDigest: String?
        /// A dead letter to push, when the job failed for good.
        public var deadLetter: DeadLetter.Encoding?
        /// A recognition to remember for identical image bytes: (the gate's image key, recognition JSON).
        public var imageCache: (key: String, recognition: Data)?
        /// The call's claims to drop, if it made them.
        public var claim: CallClaim?
        public var resultTTLSeconds: Int
        /// Take the next pending job in the same step, saving its own round trip: set while a worker
        /// is taking jobs, so a busy slot goes from one job to the next in one step. Elements above
        /// ``maxElementBytes`` are refused on the way, as ``JobQueue/take(_:limit:maxElementBytes:)`` does.
        public var takeNext = false
        public var maxElementBytes = Int.max

        public init(
            job: ReceivedJob,
            result: Data?,
            imageDigest: String? = nil,
            deadLetter: DeadLetter.Encoding? = nil,
            imageCache: (key: String, recognition: Data)? = nil,
            claim: CallClaim? = nil,
            resultTTLSeconds: Int
        ) {
            self.job = job
            self.result = result
            self.imageDigest = imageDigest
            self.deadLetter = deadLetter
            self.imageCache = imageCache
            self.claim = claim
            self.resultTTLSeconds = resultTTLSeconds
        }
    }

    /// What became of a step that ends or moves a job a worker holds.
    public enum HeldJobStep: Sendable, Equatable {
        /// The job was in the worker's list; the step happened.
        case done
        /// The job was no longer in the list: this step had already run (its reply was lost), or the
        /// job was given back meanwhile. Nothing happened twice.
        case notHeld
        /// The worker's registration is over (it was reaped): the job is someone else's now. Only a
        /// paid success and its recognition were kept.
        case fenced
    }

    /// What ending a job gave back.
    public struct Ending: Sendable {
        public var step: HeldJobStep
        /// The id already succeeded with another image: nothing was written but the recognition to
        /// remember; end the job again as `id_conflict`.
        public var idConflict = false
        /// A failure of a job whose id already succeeded with the same image (another holder of it
        /// did): it was dropped, with no dead letter, failed result or reply.
        public var copyOfSuccess = false
        /// The job taken with ``Completion/takeNext``, now in this worker's processing list.
        public var next: ReceivedJob?
        /// Elements the next take refused for their size (``Take/refused``).
        public var refused: [RefusedElement] = []
    }

    /// Stores the result, takes the job out of the processing list, pushes the dead letter and the
    /// `replyTo` message, all or nothing; with ``Completion/takeNext``, also takes the next job.
    @discardableResult
    public func finish(_ completion: Completion) async throws -> Ending {
        let job = completion.job
        guard let holder = job.holder else { throw RedisError.unexpectedReply("finish: the job was not taken") }
        let id = job.id
        let replyTo = job.replyTo(replyPrefix: keys.replyPrefix)
        let letter = completion.deadLetter
        let reply = try await runScript(
            QueueScripts.finish,
            keys: [
                "processing": keys.processing(holder.worker), "result": id.map(keys.result),
                "attempts": keys.attempts, "dead": keys.dead, "image": completion.imageCache.map { keys.image($0.key) },
                "replyTo": replyTo, "finished": keys.finished, "pending": keys.pending, "epochs": keys.epochs,
                "oversized": keys.oversized, "idClaim": id.map(keys.claim),
                "imageClaim": completion.claim?.rememberedKey.map(keys.imageClaim),
                "letterOf": id.map(keys.deadLetterOf), "pause": keys.pause,
            ],
            arguments: [
                "element": .data(job.element), "result": id == nil ? "" : .data(completion.result ?? Data()),
                "ttl": .int(completion.resultTTLSeconds), "id": .string(id ?? ""),
                "letterHead": .data(letter?.head ?? Data()), "letterTail": .data(letter?.tail ?? Data()),
                "embedding": .string(letter?.embedding.rawValue ?? ""),
                "recognition": .data(completion.imageCache?.recognition ?? Data()), "failure": .flag(letter != nil),
                "takeNext": .flag(completion.takeNext), "worker": .string(holder.worker), "epoch": .int(holder.epoch),
                "replyPrefix": .string(keys.replyPrefix), "imageDigest": .string(completion.imageDigest ?? ""),
                "mostElementBytes": .int(completion.maxElementBytes), "failedAt": .string(Timestamp.iso8601()),
                "call": .string(completion.claim?.value(for: holder) ?? ""),
            ]
        )
        guard let parts = reply.array, let removed = parts.first?.int else {
            throw RedisError.unexpectedReply("finish returned \(reply)")
        }
        switch removed {
        case -2: return Ending(step: .notHeld, idConflict: true)
        case -1: return Ending(step: .fenced)
        default:
            let next = parts.count > 1 ? parts[1].data.map { ReceivedJob(element: $0, holder: holder) } : nil
            return Ending(
                step: removed > 0 ? .done : .notHeld,
                copyOfSuccess: parts.count > 3 && parts[3].int == 1,
                next: next,
                refused: parts.count > 2 ? Self.refusedElements(parts[2]) : []
            )
        }
    }

    /// Length of the unique prefix that keeps identical elements apart in the `delayed` set.
    static let delayedMemberPrefixLength = 17

    /// Schedules the job's next attempt `delay` from now, counting the attempt in Redis and
    /// dropping the call's claims.
    @discardableResult
    public func scheduleRetry(
        _ job: ReceivedJob,
        id: String,
        after delay: Duration,
        attemptsMade: Int,
        claim: CallClaim? = nil
    ) async throws -> HeldJobStep {
        guard let holder = job.holder else { throw RedisError.unexpectedReply("retry: the job was not taken") }
        let prefix =
            String(UInt64.random(in: .min ... .max), radix: 16).leftPadded(to: Self.delayedMemberPrefixLength - 1) + ":"
        let reply = try await runScript(
            QueueScripts.retry,
            keys: [
                "processing": keys.processing(holder.worker), "delayed": keys.delayed, "attempts": keys.attempts,
                "epochs": keys.epochs, "idClaim": keys.claim(id),
                "imageClaim": claim?.rememberedKey.map(keys.imageClaim), "finished": keys.finished,
            ],
            arguments: [
                "element": .data(job.element), "delayMs": .int(Int(delay / .milliseconds(1))),
                "memberPrefix": .string(prefix), "id": .string(id), "attemptsMade": .int(attemptsMade),
                "worker": .string(holder.worker), "epoch": .int(holder.epoch),
                "call": .string(claim?.value(for: holder) ?? ""),
            ]
        )
        return Self.heldJobStep(reply)
    }

    /// Gives a job back to the front of `pending` untouched, without spending an attempt, dropping
    /// the call's claims.
    @discardableResult
    public func giveBack(_ job: ReceivedJob, claim: CallClaim? = nil) async throws -> HeldJobStep {
        guard let holder = job.holder else { throw RedisError.unexpectedReply("give back: the job was not taken") }
        let reply = try await runScript(
            QueueScripts.giveBack,
            keys: [
                "processing": keys.processing(holder.worker), "pending": keys.pending, "epochs": keys.epochs,
                "idClaim": job.id.map(keys.claim), "imageClaim": claim?.rememberedKey.map(keys.imageClaim),
            ],
            arguments: [
                "element": .data(job.element), "worker": .string(holder.worker), "epoch": .int(holder.epoch),
                "call": .string(claim?.value(for: holder) ?? ""),
            ]
        )
        return Self.heldJobStep(reply)
    }

    static func heldJobStep(_ reply: RedisValue) -> HeldJobStep {
        switch reply.int ?? 0 {
        case ..<0: .fenced
        case 0: .notHeld
        default: .done
        }
    }

    /// Writes `result` (a success) under `id` unless a success is stored there: for results the
    /// previous master may have taken without passing them on. Returns true when it was missing.
    @discardableResult
    public func restoreSuccess(id: String, result: Data, resultTTLSeconds: Int) async throws -> Bool {
        try await runScript(
            QueueScripts.restoreSuccess,
            keys: ["result": keys.result(id)],
            arguments: ["result": .data(result), "ttl": .int(resultTTLSeconds)]
        ).int == 1
    }

    /// Stores the failed result of an element refused at the take (whose id its first bytes
    /// gave), and pushes it onto its `replyTo`. A stored success stays.
    public func answerRefused(id: String, replyTo: String?, result: Data, resultTTLSeconds: Int) async throws {
        _ = try await runScript(
            QueueScripts.answerRefused,
            keys: ["result": keys.result(id), "replyTo": replyTo.flatMap { keys.isReplyKey($0) ? $0 : nil }],
            arguments: [
                "result": .data(result), "ttl": .int(resultTTLSeconds), "replyPrefix": .string(keys.replyPrefix),
            ]
        )
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
