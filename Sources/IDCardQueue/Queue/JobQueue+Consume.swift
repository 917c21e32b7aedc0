import Foundation
import IDCardContract

/// A worker's first steps with a job: take it, then pass the gate before paying for a call.
extension JobQueue {
    /// What one take brought.
    public struct Take: Sendable {
        /// Jobs now in the worker's processing list, oldest first, each knowing the registration it was taken under.
        public var jobs: [ReceivedJob]
        /// Elements too large for any job that can succeed, met on the way and refused in Redis:
        /// already dead-lettered, never moved into this process.
        public var refused: [RefusedElement]
    }

    /// An element refused at the take for its size (see ``QueueKeys/oversized``).
    public struct RefusedElement: Sendable, Equatable {
        /// Its field in `P:{Q}:oversized`, named by its dead letter.
        public var field: String
        public var bytes: Int
        /// Its first 4 KiB: the id and `replyTo` are usually there, for a failed result and a reply.
        public var head: Data
    }

    /// Moves up to `limit` of the oldest pending jobs into this worker's processing list, oldest
    /// first, without waiting; fewer once they add up to ``maxTakeBytes``. A job is never only in
    /// memory: if the process dies now, the reaper finds it in the processing list. An element
    /// above `maxElementBytes` is refused in Redis instead (``Take/refused``).
    /// - Throws: ``WorkerFencedError`` when `registration` is over; nothing was taken.
    public func take(_ registration: WorkerRegistration, limit: Int, maxElementBytes: Int) async throws -> Take {
        let reply = try await runScript(
            QueueScripts.take,
            keys: [
                "pending": keys.pending, "processing": keys.processing(registration.worker), "epochs": keys.epochs,
                "oversized": keys.oversized, "dead": keys.dead, "finished": keys.finished, "pause": keys.pause,
            ],
            arguments: [
                "mostJobs": .int(limit), "mostBytes": .int(Self.maxTakeBytes), "worker": .string(registration.worker),
                "epoch": .int(registration.epoch), "mostElementBytes": .int(maxElementBytes),
                "failedAt": .string(Timestamp.iso8601()),
            ]
        )
        guard let parts = reply.array, let status = parts.first?.string else {
            throw RedisError.unexpectedReply("take returned \(reply)")
        }
        guard status == "ok", parts.count == 3 else {
            if status == "fenced" { throw WorkerFencedError(registration) }
            throw RedisError.unexpectedReply("take returned \(reply)")
        }
        let jobs = (parts[1].array ?? []).compactMap { $0.data.map { ReceivedJob(element: $0, holder: registration) } }
        return Take(jobs: jobs, refused: Self.refusedElements(parts[2]))
    }

    static func refusedElements(_ reply: RedisValue) -> [RefusedElement] {
        (reply.array ?? []).compactMap { entry in
            guard let parts = entry.array, parts.count == 3, let field = parts[0].string, let bytes = parts[1].int,
                let head = parts[2].data
            else { return nil }
            return RefusedElement(field: field, bytes: bytes, head: head)
        }
    }

    /// Most bytes of jobs one ``take(_:limit:maxElementBytes:)`` brings: a reply is buffered whole
    /// (by hiredis, then copied out), so a take of 64 jobs of 100 KB images would briefly cost ~35 MB.
    static let maxTakeBytes = 512 << 10

    /// What a job asks the gate before its paid call.
    public struct GateRequest: Sendable {
        /// The job, taken under a registration, with a valid id.
        public var job: ReceivedJob
        /// Which image the job asks about (`sha256:…` or `url-sha256:…`): a stored success of
        /// another image under the same id is a conflict, not an answer.
        public var imageDigest: String
        /// The claims this call makes on the id and (with its remembered-recognition key) the
        /// bytes; with no key, no recognition is reused nor the bytes claimed.
        public var claim: CallClaim
        /// How long the claims last: the wait for a rate slot and the call's own deadline. A holder
        /// that dies mid-call blocks the id no longer than that, nor past its registration.
        public var claimFor: Duration
        /// A remembered recognition this job found and could not read (corrupt, or sealed with a
        /// key not given): while the key still holds exactly these bytes, the gate treats them as
        /// absent and claims the bytes, so that this call's answer replaces them and the other
        /// copies wait for it instead of each paying.
        public var unreadableRemembered: Data?

        public init(
            job: ReceivedJob,
            imageDigest: String,
            claim: CallClaim,
            claimFor: Duration,
            unreadableRemembered: Data? = nil
        ) {
            self.job = job
            self.imageDigest = imageDigest
            self.claim = claim
            self.claimFor = claimFor
            self.unreadableRemembered = unreadableRemembered
        }
    }

    /// A call's claims on a job id and on image bytes: while they last, another holder of the same
    /// id or bytes waits for this call's answer instead of paying for its own.
    public struct CallClaim: Sendable, Equatable {
        /// Unique to the call; a step drops only claims carrying it.
        public var token: String
        /// The remembered-recognition key of the bytes (image digest and question), when the bytes
        /// are deduplicated; `nil`: only the id is claimed.
        public var rememberedKey: String?

        public init(token: String = String(UInt64.random(in: .min ... .max), radix: 36), rememberedKey: String?) {
            self.token = token
            self.rememberedKey = rememberedKey
        }

        /// As stored: `worker|epoch|token`, so a claim dies with its holder's registration (a
        /// worker reaped mid-call blocks no one once its jobs are given back).
        func value(for holder: WorkerRegistration) -> String { "\(holder.worker)|\(holder.epoch)|\(token)" }
    }

    /// What the gate decided for a job about to be recognised.
    public enum GateDecision: Sendable, Equatable {
        /// The id already has a succeeded result of this image (given): do not pay again.
        case alreadySucceeded(Data)
        /// The id already has a succeeded result of another image: end this job as `id_conflict`.
        case idConflict
        /// The same image bytes were recognised recently; this is that recognition.
        case cachedRecognition(Data)
        /// Another call is paying for this id or these bytes right now: ask again later (its claim
        /// expires after `claimExpiresIn` at the latest), and reuse its answer.
        case busy(claimExpiresIn: Duration)
        /// Pay for a call (after the fleet's rate slot, when there is a limit): the id and bytes are claimed.
        case proceed
    }

    /// One round trip before a paid call: dedupe by id and by image bytes, wait for a call already
    /// paying for either, else claim both.
    /// - Returns: the decision and the attempts this job had already made.
    /// - Throws: ``WorkerFencedError`` when the job's registration is over: do not pay for it.
    public func gate(_ request: GateRequest) async throws -> (GateDecision, attemptsMade: Int) {
        guard let holder = request.job.holder, let jobID = request.job.id else {
            throw RedisError.unexpectedReply("gate: the job was not taken, or has no valid id")
        }
        let remembered = request.claim.rememberedKey
        let reply = try await runScript(
            QueueScripts.gate,
            keys: [
                "result": keys.result(jobID), "image": remembered.map(keys.image), "attempts": keys.attempts,
                "epochs": keys.epochs, "idClaim": keys.claim(jobID), "imageClaim": remembered.map(keys.imageClaim),
            ],
            arguments: [
                "id": .string(jobID), "worker": .string(holder.worker), "epoch": .int(holder.epoch),
                "imageDigest": .string(request.imageDigest), "call": .string(request.claim.value(for: holder)),
                "claimMs": .int(max(1, Int(request.claimFor / .milliseconds(1)))),
                "unreadable": .data(request.unreadableRemembered ?? Data()),
            ]
        )
        guard let parts = reply.array, parts.count == 3, let verdict = parts[0].string, let attempts = parts[2].int
        else {
            throw RedisError.unexpectedReply("gate returned \(reply)")
        }
        switch verdict {
        case "done": return (.alreadySucceeded(parts[1].data ?? Data()), attempts)
        case "conflict": return (.idConflict, attempts)
        case "cached": return (.cachedRecognition(parts[1].data ?? Data()), attempts)
        case "busy": return (.busy(claimExpiresIn: .milliseconds(max(0, parts[1].int ?? 0))), attempts)
        case "fenced": throw WorkerFencedError(holder)
        default: return (.proceed, attempts)
        }
    }
}
