import Foundation
import IDCardContract
import IDCardQueue
import IDCardRecognition
import Logging
import NIOConcurrencyHelpers

/// One job's path, top to bottom: intake → gate → rate slot → call → ending.
///
/// The steps before the ending return a ``JobOutcome`` and write nothing but the gate's claims;
/// ``conclude(_:_:)`` alone ends the job, in exactly one queue step.
extension WorkerService {
    /// Runs one job to its end.
    /// - Parameter recheck: the claims of a job kept aside after the API refused it, now tried
    ///   again because another job has passed since (`WorkerService+Suspects`); refused again, it
    ///   is the job's own fault.
    /// - Returns: the next job, when the step that ended this one also took it
    ///   (see ``JobQueue/Completion/takeNext``).
    func process(
        _ received: ReceivedJob,
        takenAt: ContinuousClock.Instant,
        recheck: JobQueue.CallClaim? = nil
    ) async -> ReceivedJob? {
        var context = JobContext(received, takenAt: takenAt, logger: logger)
        let outcome = await recognize(&context, recheck: recheck)
        return await conclude(outcome, context)
    }

    // MARK: - The path

    /// Intake, the gate, the rate slot and the call: everything before the job's ending.
    private func recognize(_ context: inout JobContext, recheck: JobQueue.CallClaim?) async -> JobOutcome {
        let admitted: JobIntake.Admitted
        do throws(JobError) {
            admitted = try intake.admit(context.received)
        } catch {
            return .failedForGood(error, provider: nil)
        }
        let (job, image) = (admitted.job, admitted.image)
        context.imageDigest = image.digest
        if let enqueuedAt = job.enqueuedAtMilliseconds, recheck == nil {
            let waited = Timestamp.nowMilliseconds() - enqueuedAt
            if waited >= 0 { metrics.queueLatency.recordMilliseconds(waited) }
        }

        let claim = recheck ?? JobQueue.CallClaim(rememberedKey: rememberedRecognitionKey(job: job, image: image))
        var unreadable: Data?
        var busyWaits = 0
        while true {
            let decision: JobQueue.GateDecision
            switch await askGate(&context, image: image, claim: claim, unreadable: unreadable) {
            case .success(let answer): decision = answer
            case .failure(let ended): return ended.outcome
            }
            switch decision {
            case .alreadySucceeded:
                return .alreadySucceeded
            case .idConflict:
                return .failedForGood(Self.idConflict, provider: nil)
            case .cachedRecognition(let data):
                if let recognition = rememberedRecognition(data, key: claim.rememberedKey) {
                    return .succeeded(job, recognition, fromMemory: true)
                }
                // Through the gate again for a rate slot (a call without one could break the quota),
                // claiming the bytes: this call's answer replaces what could not be read.
                context.logger.warning("a remembered recognition could not be read; recognizing again")
                metrics.rememberedUnreadable.increment()
                unreadable = data
            case .busy(let claimExpiresIn):
                // Another call pays for this id or these bytes right now: its answer will do.
                guard !isStopping else { return .giveBack }
                busyWaits += 1
                let backoff = Duration.milliseconds(min(1000, 25 << min(busyWaits - 1, 6)))
                try? await Task.sleep(for: min(backoff, claimExpiresIn + .milliseconds(5)))
            case .proceed:
                // The gate claimed the call: from here every ending drops the claims.
                context.claim = claim
                let slot: RateGate.Slot?
                switch await reserveRateSlot(context) {
                case .success(let reserved): slot = reserved
                case .failure(let ended): return ended.outcome
                }
                return await call(context, job: job, image: image, slot: slot, recheck: recheck != nil)
            }
        }
    }

    /// A step that ended the path early, for `Result`'s failure side.
    private struct Ended: Error {
        let outcome: JobOutcome
    }

    static let idConflict = JobError(
        .idConflict,
        """
        this id already has a succeeded result for another image; that result stays and is not given to this job: use \
        a new id for a new image
        """
    )

    /// One round trip before a paid call: dedupe by id and bytes, or claim both.
    private func askGate(
        _ context: inout JobContext,
        image: PreparedImage,
        claim: JobQueue.CallClaim,
        unreadable: Data?
    ) async -> Result<JobQueue.GateDecision, Ended> {
        let request = JobQueue.GateRequest(
            job: context.received,
            imageDigest: image.digest,
            claim: claim,
            claimFor: claimDuration,
            unreadableRemembered: unreadable
        )
        do {
            let (decision, attemptsMade) = try await persistently("gate") { try await self.queue.gate(request) }
            context.counted(attemptsMade: attemptsMade)
            return .success(decision)
        } catch let fenced as WorkerFencedError {
            noteFenced(fenced.registration)
            return .failure(Ended(outcome: .notOurs))
        } catch {
            if !(error is CancellationError) {
                context.logger.error("gate failed; giving the job back", metadata: ["error": "\(error)"])
            }
            return .failure(Ended(outcome: .giveBack))
        }
    }

    /// Waits for the fleet's rate slot, when there is a limit. The slot must come while the claims
    /// last, with the call's deadline to spare.
    ///
    /// With several queues, their jobs book one at a time in the order of the queues' claims
    /// (``ProcessCapacity/awaitRateTurn(_:)``), and a job that finds the schedule booked a horizon
    /// ahead keeps its turn and waits, as long as its claims allow: when the budget, not the job
    /// slots, is what they wait for, the weights still decide who gets it (a job given back would
    /// leave its turn to whichever queue asks next).
    private func reserveRateSlot(_ context: JobContext) async -> Result<RateGate.Slot?, Ended> {
        guard let rateGate else { return .success(nil) }
        let slotBy = ContinuousClock.now + claimDuration - callDeadline
        let takesTurns = capacity.queues.count > 1
        if takesTurns {
            guard await capacity.awaitRateTurn(capacityIndex) else { return .failure(Ended(outcome: .giveBack)) }
        }
        // The turn passes on as soon as the slot is booked, before the wait for it.
        let turn = NIOLockedValueBox(takesTurns)
        let (capacity, index) = (self.capacity, capacityIndex)
        let endTurn: @Sendable () -> Void = {
            if turn.withLockedValue({ held in
                defer { held = false }
                return held
            }) {
                capacity.endRateTurn(index)
            }
        }
        defer { endTurn() }
        var reservation: RateGate.Reservation
        do {
            while true {
                reservation = try await persistently("rate slot") {
                    try await rateGate.reserve(by: slotBy, booked: endTurn)
                }
                guard takesTurns, case .later(let wait) = reservation, ContinuousClock.now + wait < slotBy, !isStopping
                else { break }
                try await Task.sleep(for: wait)
            }
        } catch {
            if !(error is CancellationError) {
                context.logger.error("no rate slot; giving the job back", metadata: ["error": "\(error)"])
            }
            return .failure(Ended(outcome: .giveBack))
        }
        switch reservation {
        case .slot(let slot):
            metrics.rateLimitWait.record(duration: slot.waited)
            return .success(slot)
        case .later(let wait):
            // Every slot within the horizon is handed out: the job waits in Redis, and this worker
            // takes none until a slot frees.
            capacity.holdTaking(for: wait, refunding: capacityIndex)
            return .failure(Ended(outcome: .giveBack))
        }
    }

    /// How long a call's claims last: its wait for a rate slot (no longer: see
    /// ``RateGate/reserve(by:)``) and ``callDeadline``.
    var claimDuration: Duration {
        let wait = rateGate.map { $0.configuration.horizon + $0.configuration.coolDown } ?? .zero
        return wait + callDeadline
    }

    /// A call's own deadline and a margin for its finish.
    var callDeadline: Duration { .milliseconds(Int64(configuration.recognizerTimeout * 1000)) + .seconds(5) }

    /// The paid call, its rate slot come.
    private func call(
        _ context: JobContext,
        job: Job,
        image: PreparedImage,
        slot: RateGate.Slot?,
        recheck: Bool
    ) async -> JobOutcome {
        let started = ContinuousClock.now
        let requestSent = NIOLockedValueBox(false)
        do {
            var request = RecognitionRequest(image: image, side: job.side, needQuality: job.needQuality)
            request.sent = {
                requestSent.withLockedValue { $0 = true }
                if let slot, self.rateGate?.noteSent(slot) == true { self.metrics.rateLateCalls.increment() }
            }
            let recognition = try await recognizer.recognize(request)
            metrics.ocrRequest(outcome: "ok", duration: .now - started)
            await noteRecognizerAnswered(context)
            return .succeeded(job, recognition, fromMemory: false)
        } catch let failure as RecognitionFailure {
            metrics.ocrRequest(outcome: failure.code?.rawValue ?? "account", duration: .now - started)
            return await outcome(of: failure, context, slot: slot, callStartedAt: started, recheck: recheck)
        } catch {
            // Cancelled at the end of the shutdown grace: nothing was recognised, the job goes back.
            // A request already on its way may have been billed: its next holder may pay again.
            if requestSent.withLockedValue({ $0 }) { metrics.ocrUnanswered.increment() }
            return .giveBack
        }
    }

    /// What the answer says of the recognizer (a pause ending, the fleet cooling down), then what
    /// the job does: ``FailureDecision``.
    private func outcome(
        of failure: RecognitionFailure,
        _ context: JobContext,
        slot: RateGate.Slot?,
        callStartedAt: ContinuousClock.Instant,
        recheck: Bool
    ) async -> JobOutcome {
        switch failure {
        case .rejected:
            await noteRecognizerAnswered(context)
        case .unanswered:
            metrics.ocrUnanswered.increment()
        case .rateLimited:
            await noteRecognizerAnswered(context, provesAccount: false)
            await coolDown(after: failure, slot: slot, context)
        case .busy(_, let retryAfter):
            // The recognizer is full: this process takes no new job until it may ask again.
            capacity.holdTaking(for: retryAfter, refunding: capacityIndex)
        case .unavailable, .accountProblem, .refused:
            break
        }
        let decision = FailureDecision.after(
            failure,
            attempt: context.attempt,
            rules: failureRules,
            refusedAgainWhileOthersPass: recheck && health.pausedReason == nil
        )
        switch decision {
        case .failForGood(let error):
            return .failedForGood(error, provider: recognizer.provider, warnings: failure.warnings)
        case .retry(let delay):
            return .retry(after: delay, because: failure)
        case .pause(let reason):
            let wait = health.pause(reason: reason, callStartedAt: callStartedAt)
            context.logger.error(
                "the recognizer refused the account or configuration: taking no jobs, probing again later",
                metadata: ["reason": "\(reason)", "probeInMs": "\(Int(wait / .milliseconds(1)))"]
            )
            return .pause(reason: reason)
        case .setAside(let reason):
            return .setAside(reason: reason, callStartedAt: callStartedAt)
        }
    }

    /// The API refused a call for rate: the whole fleet cools down and slows down.
    private func coolDown(after failure: RecognitionFailure, slot: RateGate.Slot?, _ context: JobContext) async {
        guard let rateGate, let slot else { return }
        do {
            if try await persistently("cool down", { try await rateGate.noteRefused(slot) }) {
                context.logger.warning(
                    "the API refused a call for rate: the fleet cools down and slows down",
                    metadata: ["reason": "\(failure.message)"]
                )
            }
        } catch {
            context.logger.warning("could not slow the fleet down", metadata: ["error": "\(error)"])
        }
    }

    var failureRules: FailureDecision.Rules {
        FailureDecision.Rules(
            maxAttempts: configuration.maxAttempts,
            backoff: retryPolicy,
            rateCoolDown: .milliseconds(Int64(configuration.rateCoolDown * 1000))
        )
    }

    // MARK: - The ending

    /// The one place a job's path ends: each outcome becomes exactly one queue step.
    /// - Returns: the next job, when that step also took it.
    func conclude(_ outcome: JobOutcome, _ context: JobContext) async -> ReceivedJob? {
        switch outcome {
        case .succeeded(let job, let recognition, let fromMemory):
            return await succeed(context, job: job, recognition: recognition, fromMemory: fromMemory)
        case .alreadySucceeded:
            let completion = JobQueue.Completion(
                job: context.received,
                result: nil,
                resultTTLSeconds: configuration.resultTTL
            )
            let ending = await end(completion, context)
            record(.deduplicated, context)
            return ending?.next
        case .failedForGood(let error, let provider, let warnings):
            return await failForGood(context, error: error, provider: provider, warnings: warnings)
        case .retry(let delay, let failure):
            await retry(context, after: delay, because: failure)
            return nil
        case .giveBack:
            await giveBack(context)
            return nil
        case .pause:
            await giveBack(context)
            await giveBackSuspects(reason: "the account or configuration is refused")
            return nil
        case .setAside(let reason, let callStartedAt):
            return await setAside(context, reason: reason, callStartedAt: callStartedAt)
        case .notOurs:
            return nil
        }
    }

    /// Schedules the next attempt; the job waits in `delayed`, not in memory.
    private func retry(_ context: JobContext, after delay: Duration, because failure: RecognitionFailure) async {
        guard let id = context.id else { return }  // the gate let through only jobs with an id
        do {
            let step = try await persistently("schedule retry", keepTryingAfterCancel: .seconds(5)) {
                try await self.queue.scheduleRetry(
                    context.received,
                    id: id,
                    after: delay,
                    attemptsMade: context.attempt,
                    claim: context.claim
                )
            }
            if step == .fenced, let holder = context.received.holder { noteFenced(holder) }
            metrics.count(.retried)
            // The reason is ours (a transport error's kind, an HTTP status, a gateway code and
            // its text), never the job's data: what an operator needs to see why jobs retry.
            context.logger.info(
                "job will be retried",
                metadata: [
                    "outcome": "retried", "code": "\(failure.code?.rawValue ?? "")", "reason": "\(failure.message)",
                    "retryInMs": "\(Int(delay / .milliseconds(1)))",
                ]
            )
        } catch {
            context.logger.error(
                "could not schedule the retry; the job stays with this worker until it is given back",
                metadata: ["error": "\(error)"]
            )
        }
    }

    private func succeed(
        _ context: JobContext,
        job: Job,
        recognition: Recognition,
        fromMemory: Bool
    ) async -> ReceivedJob? {
        let answeredAt = ContinuousClock.now
        var result = JobResult(
            id: job.id,
            status: .succeeded,
            provider: recognition.provider,
            attempts: context.attempt,
            enqueuedAt: job.enqueuedAt,
            durationMs: context.elapsedMilliseconds,
            body: .object(recognition.body),
            checks: CardChecks.evaluate(recognition.body),
            derived: recognition.derived,
            warnings: recognition.warnings,
            meta: job.meta,
            imageDigest: context.imageDigest
        )
        // A recognition read from memory is not remembered again.
        let claim = fromMemory ? nil : context.claim
        var remembered = claim?.rememberedKey.map { (key: $0, recognition: recognition.jsonValue.encoded()) }
        if let keys = configuration.encryptionKeys {
            do {
                result = try result.sealingBody(with: keys)
                if let plain = remembered {
                    let sealed = try keys.seal(plain.recognition, for: .rememberedRecognition(key: plain.key))
                    remembered = (plain.key, sealed.encoded())
                }
            } catch {
                context.logger.error(
                    "could not seal the result; the job goes back to pending",
                    metadata: ["error": "\(error)"]
                )
                await giveBack(context)
                return nil
            }
        }
        let completion = JobQueue.Completion(
            job: context.received,
            result: result.encoded(),
            imageDigest: context.imageDigest,
            imageCache: remembered,
            claim: claim,
            resultTTLSeconds: configuration.resultTTL
        )
        guard let ending = await end(completion, context) else { return nil }
        if !fromMemory { metrics.answerToResult.record(duration: .now - answeredAt) }
        if ending.step != .fenced && !ending.idConflict, let result = completion.result {
            rememberSuccess(id: job.id, result: result)
        }
        if ending.idConflict {
            // Someone else's image succeeded under this id while this one was read: theirs stays.
            var context = context
            context.claim = nil
            return await failForGood(context, error: Self.idConflict, provider: recognition.provider)
        }
        record(fromMemory ? .deduplicated : .succeeded, context)
        return ending.next
    }

    /// Ends a job as failed for good: a failed result under its id (when it has a valid one) and
    /// a dead letter.
    /// - Parameter mayTakeNext: `false` outside a slot (a job set aside by the reaper), where no
    ///   one would run the next job.
    func failForGood(
        _ context: JobContext,
        error: JobError,
        provider: String?,
        warnings: [String]? = nil,
        mayTakeNext: Bool = true
    ) async -> ReceivedJob? {
        let received = context.received
        let result = received.id.map { id in
            JobResult(
                id: id,
                status: .failed,
                provider: provider,
                attempts: context.attempt,
                enqueuedAt: received.fields?["enqueuedAt"],
                durationMs: context.elapsedMilliseconds,
                warnings: warnings,
                error: error,
                meta: received.meta
            )
        }
        let letter: DeadLetter.Encoding
        do {
            letter = try DeadLetter.encode(
                received,
                error: error,
                attempts: context.attempt,
                worker: workerID,
                keys: configuration.encryptionKeys
            )
        } catch {
            context.logger.error(
                "could not seal the dead letter; the job goes back to pending",
                metadata: ["error": "\(error)"]
            )
            await giveBack(context)
            return nil
        }
        let completion = JobQueue.Completion(
            job: received,
            result: result?.encoded(),
            imageDigest: context.imageDigest,
            deadLetter: letter,
            claim: context.claim,
            resultTTLSeconds: configuration.resultTTL
        )
        let ending = await end(completion, context, mayTakeNext: mayTakeNext)
        if ending?.copyOfSuccess == true {
            context.logger.info("another holder of this job succeeded meanwhile: this copy's failure is dropped")
            record(.deduplicated, context)
            return ending?.next
        }
        var context = context
        context.failed(with: error.code)
        record(.failed, context)
        return ending?.next
    }

    /// Writes the job's end; while the worker is taking jobs at full speed, the same step takes
    /// the next one.
    /// - Returns: `nil` when the end could not be written (the job stays in the list for the reaper).
    private func end(
        _ completion: JobQueue.Completion,
        _ context: JobContext,
        mayTakeNext: Bool = true
    ) async -> JobQueue.Ending? {
        var completion = completion
        // Not after a job too large to ever succeed: the next one would arrive while it is still held.
        let maxElementBytes = intake.limits.maxElementBytes
        completion.takeNext =
            mayTakeNext && isTakingJobs && completion.job.element.count <= maxElementBytes
            && capacity.mayContinue(capacityIndex)
        completion.maxElementBytes = maxElementBytes
        let ending: JobQueue.Ending
        do {
            let step = completion
            ending = try await persistently("finish", keepTryingAfterCancel: .seconds(5)) {
                try await self.queue.finish(step)
            }
        } catch {
            context.logger.error(
                "could not store the job's end; it stays with this worker until it is given back",
                metadata: ["error": "\(error)"]
            )
            return nil
        }
        switch ending.step {
        case .done: break
        case .notHeld:
            if !ending.idConflict {
                context.logger.warning(
                    "the job had been given back while this worker was presumed dead; its result is stored all the same"
                )
            }
        case .fenced:
            context.logger.warning(
                "this worker was presumed dead and the job given to another; only a paid success was kept"
            )
            if let holder = context.received.holder { noteFenced(holder) }
        }
        if !ending.refused.isEmpty { refusedElements.withLockedValue { $0 += ending.refused } }
        return ending
    }

    /// Gives the job back to `pending` untouched, its claims dropped, no attempt spent.
    func giveBack(_ context: JobContext) async {
        do {
            let step = try await persistently("give back", keepTryingAfterCancel: .seconds(5)) {
                try await self.queue.giveBack(context.received, claim: context.claim)
            }
            if step == .fenced, let holder = context.received.holder { noteFenced(holder) }
        } catch {
            context.logger.error("could not give the job back; the reaper will", metadata: ["error": "\(error)"])
        }
    }

    private func record(_ outcome: WorkerMetrics.JobOutcome, _ context: JobContext) {
        metrics.count(outcome)
        metrics.jobDuration.record(duration: context.elapsed)
        context.logger.info(
            "job ended",
            metadata: ["outcome": "\(outcome.rawValue)", "durationMs": "\(context.elapsedMilliseconds)"]
        )
    }

    // MARK: - What the answers say of the recognizer and of the bytes

    /// The recognizer answered a job without refusing the account: a pause ends. When the answer
    /// shows the account works (a reading, or "no card" for this image), jobs kept aside after a
    /// refusal get another try; a rate-limit answer shows no such thing (a gateway may throttle
    /// before it checks the key).
    func noteRecognizerAnswered(_ context: JobContext, provesAccount: Bool = true) async {
        if health.recognizerAnswered() {
            context.logger.info("the recognizer accepts the account again: taking jobs")
        }
        if provesAccount { scheduleRechecks() }
    }

    /// Identical bytes asked the same question (side, quality flags) of the same provider get the same answer.
    private func rememberedRecognitionKey(job: Job, image: PreparedImage) -> String? {
        guard configuration.dedupeImages, let digest = image.sha256 else { return nil }
        return Self.rememberedRecognitionKey(
            provider: recognizer.provider,
            sha256: digest,
            side: job.side,
            needQuality: job.needQuality
        )
    }

    /// The name of a remembered recognition under `P:{Q}:image:`: the same bytes asked the same
    /// question of the same provider. A different `type` or `needQuality` is another question.
    static func rememberedRecognitionKey(provider: String, sha256: String, side: Job.Side, needQuality: Bool) -> String
    {
        "\(provider):\(sha256):\(side == .detect ? "0" : side.rawValue):\(needQuality ? 1 : 0)"
    }

    /// A remembered recognition as stored, opened when sealed; `nil` when it cannot be read.
    private func rememberedRecognition(_ data: Data, key: String?) -> Recognition? {
        guard var value = JSONValue.parse(data) else { return nil }
        if value.isSealed {
            guard let keys = configuration.encryptionKeys, let key,
                let plain = try? keys.open(value, for: .rememberedRecognition(key: key)),
                let opened = JSONValue.parse(plain)
            else { return nil }
            value = opened
        }
        return Recognition(value)
    }
}
