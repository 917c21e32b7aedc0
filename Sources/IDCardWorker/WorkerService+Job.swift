import Foundation
import IDCardContract
import IDCardQueue
import IDCardRecognition
import Logging
import NIOConcurrencyHelpers

/// One job on its way through this worker: what it was taken as, when, and what its log lines say.
struct JobRun: Sendable {
    let received: ReceivedJob
    let takenAt: ContinuousClock.Instant
    var logger: Logger

    init(_ received: ReceivedJob, takenAt: ContinuousClock.Instant, logger: Logger) {
        self.received = received
        self.takenAt = takenAt
        self.logger = logger
        if let id = received.id { self.logger[metadataKey: "job"] = "\(id)" }
    }
}

/// One job's path: intake → gate → recognize → finish. Every exit ends in exactly one queue step.
extension WorkerService {
    /// Runs one job to its end.
    /// - Parameter recheck: the claims of a job kept aside after the API refused it, now tried
    ///   again because another job has passed since (`WorkerService+Suspects`); refused again, it
    ///   is the job's own fault.
    /// - Returns: the next job, when the step that ended this one also took it (see ``JobQueue/Completion/takeNext``).
    func process(_ received: ReceivedJob, takenAt: ContinuousClock.Instant, recheck: JobQueue.CallClaim? = nil) async -> ReceivedJob? {
        var run = JobRun(received, takenAt: takenAt, logger: logger)
        let admitted: JobIntake.Admitted
        do throws(JobError) {
            admitted = try intake.admit(received)
        } catch {
            return await failForGood(run, error: error, attempts: 1, provider: nil)
        }
        let (job, image) = (admitted.job, admitted.image)
        if let enqueuedAt = job.enqueuedAtMilliseconds, recheck == nil {
            let waited = Timestamp.nowMilliseconds() - enqueuedAt
            if waited >= 0 { metrics.queueLatency.recordMilliseconds(waited) }
        }

        let claim = recheck ?? JobQueue.CallClaim(rememberedKey: rememberedRecognitionKey(job: job, image: image))
        var unreadable: Data?
        var busyWaits = 0
        while true {
            guard let gate = await passGate(run, image: image, claim: claim, unreadable: unreadable) else { return nil }
            let attempt = gate.attemptsMade + 1
            run.logger[metadataKey: "attempt"] = "\(attempt)"
            switch gate.decision {
            case .alreadySucceeded:
                let ending = await end(JobQueue.Completion(job: received, result: nil, resultTTLSeconds: configuration.resultTTL), run)
                record(.deduplicated, run)
                return ending?.next
            case .idConflict:
                return await failForGood(run, error: Self.idConflict, attempts: attempt, provider: nil)
            case .cachedRecognition(let data):
                if let recognition = rememberedRecognition(data, key: claim.rememberedKey) {
                    return await succeed(run, job: job, image: image, recognition: recognition, attempt: attempt, claim: nil, outcome: .deduplicated)
                }
                // Through the gate again for a rate slot (a call without one could break the quota),
                // claiming the bytes: this call's answer replaces what could not be read.
                run.logger.warning("a remembered recognition could not be read; recognizing again")
                metrics.rememberedUnreadable.increment()
                unreadable = data
            case .busy(let claimExpiresIn):
                // Another call pays for this id or these bytes right now: its answer will do.
                guard !isStopping else {
                    await giveBack(run, claim: nil)
                    return nil
                }
                busyWaits += 1
                let backoff = Duration.milliseconds(min(1000, 25 << min(busyWaits - 1, 6)))
                try? await Task.sleep(for: min(backoff, claimExpiresIn + .milliseconds(5)))
            case .proceed:
                return await recognize(run, job: job, image: image, attempt: attempt, slot: gate.slot, claim: claim, recheck: recheck != nil)
            }
        }
    }

    static let idConflict = JobError(
        .idConflict,
        "this id already has a succeeded result for another image; that result stays and is not given to this job: use a new id for a new image"
    )

    /// Asks the gate whether this job may call the recognizer, and waits for its rate slot.
    /// - Returns: `nil` when the job was given back (the gate failed for good, the worker is
    ///   stopping, the fleet's slots are handed out a horizon ahead) or is no longer this worker's
    ///   (its registration is over).
    private func passGate(
        _ run: JobRun, image: PreparedImage, claim: JobQueue.CallClaim, unreadable: Data?
    ) async -> (decision: JobQueue.GateDecision, attemptsMade: Int, slot: RateGate.Slot?)? {
        let decision: JobQueue.GateDecision
        let attemptsMade: Int
        let request = JobQueue.GateRequest(
            job: run.received, imageDigest: image.digest, claim: claim, claimFor: claimDuration, unreadableRemembered: unreadable
        )
        // The slot must come while the claims last, with the call's deadline to spare.
        let slotBy = ContinuousClock.now + claimDuration - callDeadline
        do {
            (decision, attemptsMade) = try await persistently("gate") { try await self.queue.gate(request) }
        } catch let fenced as WorkerFencedError {
            noteFenced(fenced.registration)
            return nil
        } catch {
            if !(error is CancellationError) { run.logger.error("gate failed; giving the job back", metadata: ["error": "\(error)"]) }
            await giveBack(run, claim: nil)
            return nil
        }
        guard case .proceed = decision, let rateGate else { return (decision, attemptsMade, nil) }
        let reservation: RateGate.Reservation
        do {
            reservation = try await persistently("rate slot") { try await rateGate.reserve(by: slotBy) }
        } catch {
            if !(error is CancellationError) { run.logger.error("no rate slot; giving the job back", metadata: ["error": "\(error)"]) }
            await giveBack(run, claim: claim)
            return nil
        }
        switch reservation {
        case .slot(let slot):
            metrics.rateLimitWait.record(duration: slot.waited)
            return (decision, attemptsMade, slot)
        case .later(let wait):
            // Every slot within the horizon is handed out: the job waits in Redis, and this worker
            // takes none until a slot frees.
            takingHeldUntil.withLockedValue { $0 = max($0 ?? .now, .now + wait) }
            await giveBack(run, claim: claim)
            return nil
        }
    }

    /// How long a call's claims last: its wait for a rate slot (no longer: see ``RateGate/reserve(by:)``)
    /// and ``callDeadline``.
    var claimDuration: Duration {
        let wait = rateGate.map { $0.configuration.horizon + $0.configuration.coolDown } ?? .zero
        return wait + callDeadline
    }

    /// A call's own deadline and a margin for its finish.
    var callDeadline: Duration { .milliseconds(Int64(configuration.recognizerTimeout * 1000)) + .seconds(5) }

    /// One call to the recognizer, its rate slot come, and the job's end or retry.
    private func recognize(
        _ run: JobRun, job: Job, image: PreparedImage, attempt: Int, slot: RateGate.Slot?, claim: JobQueue.CallClaim, recheck: Bool
    ) async -> ReceivedJob? {
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
            await noteRecognizerAnswered(run)
            let answeredAt = ContinuousClock.now
            let next = await succeed(run, job: job, image: image, recognition: recognition, attempt: attempt, claim: claim, outcome: .succeeded)
            metrics.answerToResult.record(duration: .now - answeredAt)
            return next
        } catch let failure as RecognitionFailure {
            metrics.ocrRequest(outcome: failure.code?.rawValue ?? "account", duration: .now - started)
            return await handle(failure, run, job: job, image: image, attempt: attempt, slot: slot, claim: claim, callStartedAt: started, recheck: recheck)
        } catch {
            // Cancelled at the end of the shutdown grace: nothing was recognised, the job goes back.
            // A request already on its way may have been billed: its next holder may pay again.
            if requestSent.withLockedValue({ $0 }) { metrics.ocrUnanswered.increment() }
            await giveBack(run, claim: claim)
            return nil
        }
    }

    private func handle(
        _ failure: RecognitionFailure, _ run: JobRun, job: Job, image: PreparedImage, attempt: Int, slot: RateGate.Slot?,
        claim: JobQueue.CallClaim, callStartedAt: ContinuousClock.Instant, recheck: Bool
    ) async -> ReceivedJob? {
        switch failure {
        case .rejected(let error):
            await noteRecognizerAnswered(run)
            return await failForGood(run, error: error, attempts: attempt, provider: recognizer.provider, imageDigest: image.digest, claim: claim)
        case .unavailable, .unanswered, .rateLimited:
            var delay = retryPolicy.delay(afterAttempt: attempt)
            if case .unanswered = failure { metrics.ocrUnanswered.increment() }
            if case .rateLimited = failure {
                await noteRecognizerAnswered(run, provesAccount: false)
                delay = max(delay, .milliseconds(Int64(configuration.rateCoolDown * 1000)))
                if let rateGate, let slot {
                    do {
                        if try await persistently("cool down", { try await rateGate.noteRefused(slot) }) {
                            run.logger.warning("the API refused a call for rate: the fleet cools down and slows down", metadata: [
                                "reason": "\(failure.message)",
                            ])
                        }
                    } catch {
                        run.logger.warning("could not slow the fleet down", metadata: ["error": "\(error)"])
                    }
                }
            }
            guard attempt < configuration.maxAttempts else {
                let error = JobError(.attemptsExhausted, "gave up after \(attempt) attempts; last cause: \(failure)")
                return await failForGood(run, error: error, attempts: attempt, provider: recognizer.provider, imageDigest: image.digest, claim: claim)
            }
            return await retry(run, id: job.id, after: delay, attempt: attempt, claim: claim, failure: failure)
        case .accountProblem(let reason):
            let wait = health.pause(reason: reason, callStartedAt: callStartedAt)
            run.logger.error("the recognizer refused the account or configuration: taking no jobs, probing again later", metadata: [
                "reason": "\(reason)", "probeInMs": "\(Int(wait / .milliseconds(1)))",
            ])
            await giveBack(run, claim: claim)
            await giveBackSuspects(reason: "the account or configuration is refused")
            return nil
        case .refused(let reason):
            return await suspect(run, imageDigest: image.digest, reason: reason, attempt: attempt, claim: claim, callStartedAt: callStartedAt, recheck: recheck)
        }
    }

    /// Schedules the next attempt; the job waits in `delayed`, not in memory.
    private func retry(_ run: JobRun, id: String, after delay: Duration, attempt: Int, claim: JobQueue.CallClaim, failure: RecognitionFailure) async -> ReceivedJob? {
        do {
            let step = try await persistently("schedule retry", keepTryingAfterCancel: .seconds(5)) {
                try await self.queue.scheduleRetry(run.received, id: id, after: delay, attemptsMade: attempt, claim: claim)
            }
            if step == .fenced, let holder = run.received.holder { noteFenced(holder) }
            metrics.count(.retried)
            // The reason is ours (a transport error's kind, an HTTP status, a gateway code and
            // its text), never the job's data: what an operator needs to see why jobs retry.
            run.logger.info("job will be retried", metadata: [
                "outcome": "retried", "code": "\(failure.code?.rawValue ?? "")", "reason": "\(failure.message)",
                "retryInMs": "\(Int(delay / .milliseconds(1)))",
            ])
        } catch {
            run.logger.error("could not schedule the retry; the job stays with this worker until it is given back", metadata: ["error": "\(error)"])
        }
        return nil
    }

    private func succeed(
        _ run: JobRun, job: Job, image: PreparedImage, recognition: Recognition, attempt: Int, claim: JobQueue.CallClaim?,
        outcome: WorkerMetrics.JobOutcome
    ) async -> ReceivedJob? {
        var result = JobResult(
            id: job.id, status: .succeeded, provider: recognition.provider, attempts: attempt, enqueuedAt: job.enqueuedAt,
            durationMs: Self.milliseconds(since: run.takenAt), body: .object(recognition.body), checks: CardChecks.evaluate(recognition.body),
            derived: recognition.derived, meta: job.meta, imageDigest: image.digest
        )
        // A recognition read from memory is not remembered again.
        var cache = claim?.rememberedKey.map { (key: $0, recognition: recognition.jsonValue.encoded()) }
        if let keys = configuration.encryptionKeys {
            do {
                result = try result.sealingBody(with: keys)
                if let plain = cache { cache = (plain.key, try keys.seal(plain.recognition, for: .rememberedRecognition(key: plain.key)).encoded()) }
            } catch {
                run.logger.error("could not seal the result; the job goes back to pending", metadata: ["error": "\(error)"])
                await giveBack(run, claim: claim)
                return nil
            }
        }
        let completion = JobQueue.Completion(
            job: run.received, result: result.encoded(), imageDigest: image.digest, imageCache: cache, claim: claim,
            resultTTLSeconds: configuration.resultTTL
        )
        guard let ending = await end(completion, run) else { return nil }
        if ending.step != .fenced && !ending.idConflict, let result = completion.result { rememberSuccess(id: job.id, result: result) }
        if ending.idConflict {
            // Someone else's image succeeded under this id while this one was read: theirs stays.
            return await failForGood(run, error: Self.idConflict, attempts: attempt, provider: recognition.provider)
        }
        record(outcome, run)
        return ending.next
    }

    /// Ends a job as failed for good: a failed result under its id (when it has a valid one) and a dead letter.
    /// - Parameter mayTakeNext: `false` outside a slot (a job set aside by the reaper), where no one would run the next job.
    /// - Parameter imageDigest: the job's image, when intake read it: a failure of an image another
    ///   holder of the job read successfully is dropped as a copy of that success.
    func failForGood(
        _ run: JobRun, error: JobError, attempts: Int, provider: String?, imageDigest: String? = nil, claim: JobQueue.CallClaim? = nil,
        mayTakeNext: Bool = true
    ) async -> ReceivedJob? {
        let received = run.received
        let result = received.id.map { id in
            JobResult(
                id: id, status: .failed, provider: provider, attempts: attempts, enqueuedAt: received.fields?["enqueuedAt"],
                durationMs: Self.milliseconds(since: run.takenAt), error: error,
                meta: received.meta
            )
        }
        let letter: DeadLetter.Encoding
        do {
            letter = try DeadLetter.encode(received, error: error, attempts: attempts, worker: workerID, keys: configuration.encryptionKeys)
        } catch {
            run.logger.error("could not seal the dead letter; the job goes back to pending", metadata: ["error": "\(error)"])
            await giveBack(run, claim: claim)
            return nil
        }
        let completion = JobQueue.Completion(
            job: received, result: result?.encoded(), imageDigest: imageDigest, deadLetter: letter, claim: claim,
            resultTTLSeconds: configuration.resultTTL
        )
        let ending = await end(completion, run, mayTakeNext: mayTakeNext)
        if ending?.copyOfSuccess == true {
            run.logger.info("another holder of this job succeeded meanwhile: this copy's failure is dropped")
            record(.deduplicated, run)
            return ending?.next
        }
        var run = run
        run.logger[metadataKey: "code"] = "\(error.code.rawValue)"
        record(.failed, run)
        return ending?.next
    }

    /// Writes the job's end; while the worker is taking jobs at full speed, the same step takes the next one.
    /// - Returns: `nil` when the end could not be written (the job stays in the list for the reaper).
    private func end(_ completion: JobQueue.Completion, _ run: JobRun, mayTakeNext: Bool = true) async -> JobQueue.Ending? {
        var completion = completion
        // Not after a job too large to ever succeed: the next one would arrive while it is still held.
        completion.takeNext = mayTakeNext && isTakingJobs && completion.job.element.count <= intake.limits.maxElementBytes
        completion.maxElementBytes = intake.limits.maxElementBytes
        let ending: JobQueue.Ending
        do {
            let step = completion
            ending = try await persistently("finish", keepTryingAfterCancel: .seconds(5)) { try await self.queue.finish(step) }
        } catch {
            run.logger.error("could not store the job's end; it stays with this worker until it is given back", metadata: ["error": "\(error)"])
            return nil
        }
        switch ending.step {
        case .done: break
        case .notHeld:
            if !ending.idConflict {
                run.logger.warning("the job had been given back while this worker was presumed dead; its result is stored all the same")
            }
        case .fenced:
            run.logger.warning("this worker was presumed dead and the job given to another; only a paid success was kept")
            if let holder = run.received.holder { noteFenced(holder) }
        }
        if !ending.refused.isEmpty { refusedElements.withLockedValue { $0 += ending.refused } }
        return ending
    }

    /// Gives the job back to `pending` untouched, its claims dropped.
    func giveBack(_ run: JobRun, claim: JobQueue.CallClaim?) async {
        do {
            let step = try await persistently("release", keepTryingAfterCancel: .seconds(5)) {
                try await self.queue.release(run.received, claim: claim)
            }
            if step == .fenced, let holder = run.received.holder { noteFenced(holder) }
        } catch {
            run.logger.error("could not give the job back; the reaper will", metadata: ["error": "\(error)"])
        }
    }

    /// Writes a failed result and a reply for elements the take refused for their size, when
    /// their first bytes name a valid id: the producer waiting for it hears why.
    func answerRefused(_ refused: [JobQueue.RefusedElement]) async {
        for element in refused {
            metrics.count(.failed)
            let fields = JSONValue.leadingFields(ofObjectPrefix: element.head)
            let id = ReceivedJob.validID(fields["id"])
            var logger = self.logger
            if let id { logger[metadataKey: "job"] = "\(id)" }
            logger[metadataKey: "code"] = "\(ErrorCode.imageTooLarge.rawValue)"
            logger.info("job ended", metadata: ["outcome": "failed", "bytes": "\(element.bytes)"])
            guard let id else { continue }
            let error = JobError(
                .imageTooLarge,
                "the job is \(element.bytes) bytes, more than any job that can succeed (IDOCR_MAX_IMAGE_BYTES); it is in the dead letters"
            )
            let result = JobResult(id: id, status: .failed, attempts: 1, durationMs: 0, error: error)
            let replyTo = fields["replyTo"]?.stringValue
            do {
                try await persistently("answer a refused job") {
                    try await self.queue.answerRefused(id: id, replyTo: replyTo, result: result.encoded(), resultTTLSeconds: self.configuration.resultTTL)
                }
            } catch {
                logger.warning("could not store the failed result of a refused job; its dead letter is written", metadata: ["error": "\(error)"])
            }
        }
    }

    private func record(_ outcome: WorkerMetrics.JobOutcome, _ run: JobRun) {
        metrics.count(outcome)
        metrics.jobDuration.record(duration: .now - run.takenAt)
        run.logger.info("job ended", metadata: ["outcome": "\(outcome.rawValue)", "durationMs": "\(Self.milliseconds(since: run.takenAt))"])
    }

    /// The recognizer answered a job without refusing the account: a pause ends. When the answer
    /// shows the account works (a reading, or "no card" for this image), jobs kept aside after a
    /// refusal get another try; a rate-limit answer shows no such thing (a gateway may throttle
    /// before it checks the key).
    func noteRecognizerAnswered(_ run: JobRun, provesAccount: Bool = true) async {
        if health.recognizerAnswered() {
            run.logger.info("the recognizer accepts the account again: taking jobs")
        }
        if provesAccount { scheduleRechecks() }
    }

    /// Identical bytes asked the same question (side, quality flags) of the same provider get the same answer.
    private func rememberedRecognitionKey(job: Job, image: PreparedImage) -> String? {
        guard configuration.dedupeImages, let digest = image.sha256 else { return nil }
        return Self.rememberedRecognitionKey(provider: recognizer.provider, sha256: digest, side: job.side, needQuality: job.needQuality)
    }

    /// The name of a remembered recognition under `P:{Q}:image:`: the same bytes asked the same
    /// question of the same provider. A different `type` or `needQuality` is another question.
    static func rememberedRecognitionKey(provider: String, sha256: String, side: Job.Side, needQuality: Bool) -> String {
        "\(provider):\(sha256):\(side == .detect ? "0" : side.rawValue):\(needQuality ? 1 : 0)"
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        Int((ContinuousClock.now - start) / .milliseconds(1))
    }

    /// A remembered recognition as stored, opened when sealed; `nil` when it cannot be read.
    private func rememberedRecognition(_ data: Data, key: String?) -> Recognition? {
        guard var value = JSONValue.parse(data) else { return nil }
        if value.isSealed {
            guard let keys = configuration.encryptionKeys, let key,
                let plain = try? keys.open(value, for: .rememberedRecognition(key: key)), let opened = JSONValue.parse(plain)
            else { return nil }
            value = opened
        }
        return Recognition(value)
    }
}
