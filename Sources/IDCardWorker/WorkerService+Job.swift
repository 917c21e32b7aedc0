import Foundation
import IDCardQueue
import IDCardRecognition
import Logging

/// One job's path: intake → gate → recognize → finish. Every exit ends in exactly one queue step.
extension WorkerService {
    /// Runs one job to its end.
    /// - Returns: the next job, when the step that ended this one also took it (see ``JobQueue/Completion/takeNext``).
    func process(_ received: ReceivedJob, takenAt: ContinuousClock.Instant) async -> ReceivedJob? {
        var logger = self.logger
        if let id = received.id { logger[metadataKey: "job"] = "\(id)" }

        let job: Job
        let image: PreparedImage
        do throws(JobError) {
            job = try received.job()
            image = try PreparedImage(job.image, limits: intakeLimits)
        } catch {
            return await failForGood(received, error: error, attempts: 1, provider: nil, takenAt: takenAt, logger: logger)
        }
        if let enqueuedAt = job.enqueuedAtMilliseconds {
            let waited = Timestamp.nowMilliseconds() - enqueuedAt
            if waited >= 0 { metrics.queueLatency.recordMilliseconds(waited) }
        }

        let imageKey = rememberedRecognitionKey(job: job, image: image)
        var askForRemembered = true
        while true {
            guard let gate = await passGate(received, job: job, imageKey: askForRemembered ? imageKey : nil, logger: logger) else { return nil }
            let attempt = gate.attemptsMade + 1
            logger[metadataKey: "attempt"] = "\(attempt)"
            switch gate.decision {
            case .alreadySucceeded:
                let next = await end(JobQueue.Completion(job: received, worker: workerID, result: nil, resultTTLSeconds: configuration.resultTTL), logger: logger)
                record(.deduplicated, takenAt: takenAt, logger: logger)
                return next
            case .cachedRecognition(let data):
                if let recognition = rememberedRecognition(data, key: imageKey) {
                    return await succeed(received, job: job, recognition: recognition, attempt: attempt, imageKey: nil, outcome: .deduplicated, takenAt: takenAt, logger: logger)
                }
                // Through the gate again for a rate slot: a call without one could break the quota.
                logger.warning("a remembered recognition could not be read; recognizing again")
                askForRemembered = false
            case .proceed:
                return await recognize(received, job: job, image: image, imageKey: imageKey, attempt: attempt, slot: gate.slot, takenAt: takenAt, logger: logger)
            }
        }
    }

    /// Asks the gate whether and when this job may call the recognizer, and waits for its rate slot.
    /// - Returns: `nil` when the job was given back (the gate failed for good, or the worker is stopping).
    private func passGate(
        _ received: ReceivedJob, job: Job, imageKey: String?, logger: Logger
    ) async -> (decision: JobQueue.GateDecision, attemptsMade: Int, slot: RateSlot?)? {
        let decision: JobQueue.GateDecision
        let attemptsMade: Int
        let askedAt: ContinuousClock.Instant
        let pushedTo = configuration.rateInterval == nil ? Duration.zero : takeRatePushBack()
        do {
            (decision, attemptsMade, askedAt) = try await persistently("gate") {
                let askedAt = ContinuousClock.now
                let (decision, attempts) = try await self.queue.gate(
                    jobID: job.id, imageKey: imageKey, rateInterval: self.configuration.rateInterval, pushedTo: pushedTo
                )
                return (decision, attempts, askedAt)
            }
        } catch {
            owePushBack(to: pushedTo)
            if !(error is CancellationError) { logger.error("gate failed; giving the job back", metadata: ["error": "\(error)"]) }
            await giveBack(received, logger: logger)
            return nil
        }
        guard case .proceed(let wait, let pushed) = decision, configuration.rateInterval != nil else {
            return (decision, attemptsMade, nil)
        }
        if wait > .zero {
            metrics.rateLimitWait.record(duration: wait)
            do {
                try await Task.sleep(for: wait)
            } catch {
                await giveBack(received, logger: logger)
                return nil
            }
        }
        return (decision, attemptsMade, RateSlot(at: askedAt + wait, pushed: pushed))
    }

    /// One call to the recognizer, its rate slot come, and the job's end or retry.
    private func recognize(
        _ received: ReceivedJob, job: Job, image: PreparedImage, imageKey: String?, attempt: Int, slot: RateSlot?,
        takenAt: ContinuousClock.Instant, logger: Logger
    ) async -> ReceivedJob? {
        let started = ContinuousClock.now
        do {
            var request = RecognitionRequest(image: image, side: job.side, needQuality: job.needQuality)
            if let slot { request.sent = { self.noteCallSent(slot) } }
            let recognition = try await recognizer.recognize(request)
            metrics.ocrRequest(outcome: "ok", duration: .now - started)
            noteRecognizerAnswered(logger: logger)
            let answeredAt = ContinuousClock.now
            let next = await succeed(
                received, job: job, recognition: recognition, attempt: attempt, imageKey: imageKey, outcome: .succeeded, takenAt: takenAt, logger: logger
            )
            metrics.answerToResult.record(duration: .now - answeredAt)
            return next
        } catch let failure as RecognitionFailure {
            metrics.ocrRequest(outcome: failure.code?.rawValue ?? "account", duration: .now - started)
            return await handle(failure, received: received, job: job, attempt: attempt, callStartedAt: started, takenAt: takenAt, logger: logger)
        } catch {
            // Cancelled at the end of the shutdown grace: nothing was recognised, the job goes back.
            await giveBack(received, logger: logger)
            return nil
        }
    }

    private func handle(
        _ failure: RecognitionFailure, received: ReceivedJob, job: Job, attempt: Int, callStartedAt: ContinuousClock.Instant,
        takenAt: ContinuousClock.Instant, logger: Logger
    ) async -> ReceivedJob? {
        switch failure {
        case .rejected(let error):
            noteRecognizerAnswered(logger: logger)
            return await failForGood(received, error: error, attempts: attempt, provider: recognizer.provider, takenAt: takenAt, logger: logger)
        case .unavailable, .rateLimited:
            var delay = retryPolicy.delay(afterAttempt: attempt)
            if case .rateLimited = failure {
                noteRecognizerAnswered(logger: logger)
                let coolDown = Duration.milliseconds(Int64(configuration.rateCoolDown * 1000))
                delay = max(delay, coolDown)
                do {
                    try await persistently("cool down") { try await self.queue.coolDown(for: coolDown) }
                } catch {
                    logger.warning("could not set the fleet's cool-down", metadata: ["error": "\(error)"])
                }
            }
            guard attempt < configuration.maxAttempts else {
                let error = JobError(.attemptsExhausted, "gave up after \(attempt) attempts; last cause: \(failure)")
                return await failForGood(received, error: error, attempts: attempt, provider: recognizer.provider, takenAt: takenAt, logger: logger)
            }
            let retryDelay = delay
            do {
                try await persistently("schedule retry", keepTryingAfterCancel: .seconds(5)) {
                    try await self.queue.scheduleRetry(received, id: job.id, worker: self.workerID, after: retryDelay, attemptsMade: attempt)
                }
                metrics.count(.retried)
                // The reason is ours (a transport error's kind, an HTTP status, a gateway code and
                // its text), never the job's data: what an operator needs to see why jobs retry.
                logger.info("job will be retried", metadata: [
                    "outcome": "retried", "code": "\(failure.code?.rawValue ?? "")", "reason": "\(failure.message)",
                    "retryInMs": "\(Int(delay / .milliseconds(1)))",
                ])
            } catch {
                logger.error("could not schedule the retry; the job stays with this worker until it is given back", metadata: ["error": "\(error)"])
            }
            return nil
        case .accountProblem(let reason):
            let wait = health.pause(reason: reason, callStartedAt: callStartedAt)
            logger.error("the recognizer refused the account or configuration: taking no jobs, probing again later", metadata: [
                "reason": "\(reason)", "probeInMs": "\(Int(wait / .milliseconds(1)))",
            ])
            await giveBack(received, logger: logger)
            return nil
        }
    }

    private func succeed(
        _ received: ReceivedJob, job: Job, recognition: Recognition, attempt: Int, imageKey: String?,
        outcome: WorkerMetrics.JobOutcome, takenAt: ContinuousClock.Instant, logger: Logger
    ) async -> ReceivedJob? {
        var result = JobResult(
            id: job.id, status: .succeeded, provider: recognition.provider, attempts: attempt, enqueuedAt: job.enqueuedAt,
            durationMs: Self.milliseconds(since: takenAt), body: .object(recognition.body), checks: CardChecks.evaluate(recognition.body),
            derived: recognition.derived, meta: job.meta
        )
        var cache = imageKey.map { (key: $0, recognition: recognition.jsonValue.encoded()) }
        if let keys = configuration.encryptionKeys {
            do {
                result = try result.sealingBody(with: keys)
                if let plain = cache { cache = (plain.key, try keys.seal(plain.recognition, for: .rememberedRecognition(key: plain.key)).encoded()) }
            } catch {
                logger.error("could not seal the result; the job goes back to pending", metadata: ["error": "\(error)"])
                await giveBack(received, logger: logger)
                return nil
            }
        }
        let next = await end(
            JobQueue.Completion(job: received, worker: workerID, result: result.encoded(), imageCache: cache, resultTTLSeconds: configuration.resultTTL),
            logger: logger
        )
        record(outcome, takenAt: takenAt, logger: logger)
        return next
    }

    /// Ends a job as failed for good: a failed result under its id (when it has a valid one) and a dead letter.
    /// - Parameter mayTakeNext: `false` outside a slot (a job set aside by the reaper), where no one would run the next job.
    func failForGood(
        _ received: ReceivedJob, error: JobError, attempts: Int, provider: String?, takenAt: ContinuousClock.Instant, logger: Logger,
        mayTakeNext: Bool = true
    ) async -> ReceivedJob? {
        let result = received.id.map { id in
            JobResult(
                id: id, status: .failed, provider: provider, attempts: attempts, enqueuedAt: received.fields?["enqueuedAt"],
                durationMs: Self.milliseconds(since: takenAt), error: error,
                meta: received.meta
            )
        }
        let letter: DeadLetter.Encoding
        do {
            letter = try DeadLetter.encode(received, error: error, attempts: attempts, worker: workerID, keys: configuration.encryptionKeys)
        } catch {
            logger.error("could not seal the dead letter; the job goes back to pending", metadata: ["error": "\(error)"])
            await giveBack(received, logger: logger)
            return nil
        }
        let next = await end(
            JobQueue.Completion(job: received, worker: workerID, result: result?.encoded(), deadLetter: letter, resultTTLSeconds: configuration.resultTTL),
            mayTakeNext: mayTakeNext, logger: logger
        )
        var logger = logger
        logger[metadataKey: "code"] = "\(error.code.rawValue)"
        record(.failed, takenAt: takenAt, logger: logger)
        return next
    }

    /// Writes the job's end; while the worker is taking jobs at full speed, the same step takes the next one.
    private func end(_ completion: JobQueue.Completion, mayTakeNext: Bool = true, logger: Logger) async -> ReceivedJob? {
        var completion = completion
        // Not after a job too large to ever succeed: the next one would arrive while it is still held.
        completion.takeNext = mayTakeNext && isTakingJobs && completion.job.element.count <= intakeLimits.maxElementBytes
        let ending = completion
        do {
            let outcome = try await persistently("finish", keepTryingAfterCancel: .seconds(5)) { try await self.queue.finish(ending) }
            if !outcome.wasStillOurs {
                logger.warning("the job had been given back while this worker was presumed dead; its result is stored all the same")
            }
            return outcome.next
        } catch {
            logger.error("could not store the job's end; it stays with this worker until it is given back", metadata: ["error": "\(error)"])
            return nil
        }
    }

    func giveBack(_ received: ReceivedJob, logger: Logger) async {
        do {
            try await persistently("release", keepTryingAfterCancel: .seconds(5)) { try await self.queue.release(received, worker: self.workerID) }
        } catch {
            logger.error("could not give the job back; the reaper will", metadata: ["error": "\(error)"])
        }
    }

    private func record(_ outcome: WorkerMetrics.JobOutcome, takenAt: ContinuousClock.Instant, logger: Logger) {
        metrics.count(outcome)
        metrics.jobDuration.record(duration: .now - takenAt)
        logger.info("job ended", metadata: ["outcome": "\(outcome.rawValue)", "durationMs": "\(Self.milliseconds(since: takenAt))"])
    }

    private func noteRecognizerAnswered(logger: Logger) {
        if health.recognizerAnswered() {
            logger.info("the recognizer accepts the account again: taking jobs")
        }
    }

    /// Identical bytes asked the same question (side, quality flags) get the same answer.
    private func rememberedRecognitionKey(job: Job, image: PreparedImage) -> String? {
        guard configuration.dedupeImages, let digest = image.sha256 else { return nil }
        return "\(digest):\(job.side == .detect ? "0" : job.side.rawValue):\(job.needQuality ? 1 : 0)"
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        Int((ContinuousClock.now - start) / .milliseconds(1))
    }

    /// A remembered recognition as stored, opened when sealed; `nil` when it cannot be read.
    private func rememberedRecognition(_ data: Data, key: String?) -> Recognition? {
        guard var value = JSONValue.parse(data) else { return nil }
        if EncryptionKeys.isSealed(value) {
            guard let keys = configuration.encryptionKeys, let key,
                let plain = try? keys.open(value, for: .rememberedRecognition(key: key)), let opened = JSONValue.parse(plain)
            else { return nil }
            value = opened
        }
        return Recognition(value)
    }
}
