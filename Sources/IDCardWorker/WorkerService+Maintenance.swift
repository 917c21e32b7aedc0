import Foundation
import IDCardContract
import IDCardQueue
import IDCardRecognition
import Logging
import NIOConcurrencyHelpers

/// Work every worker does beside its jobs, so the fleet needs no coordinator.
extension WorkerService {
    /// Beats every heartbeat interval; registers again at once when a step found the registration over.
    func beatHeart() async {
        while !Task.isCancelled {
            if let registration = currentRegistration {
                do {
                    let sentAt = ContinuousClock.now
                    let beat = try await queue.heartbeat(
                        registration,
                        pausedReason: health.pausedReason,
                        info: WorkerInfo(
                            version: ProductVersion.current,
                            concurrency: configuration.concurrency,
                            provider: configuration.provider,
                            startedAt: Self.processStartedAt
                        )
                    )
                    noteRedisClock(beat.redisMilliseconds, sentAt: sentAt)
                    if !beat.isRegistered { noteFenced(registration) }
                } catch let error as RedisError {
                    health.redisDisturbed(error)
                    logger.debug("heartbeat failed", metadata: ["error": "\(error)"])
                } catch {
                    logger.debug("heartbeat failed", metadata: ["error": "\(error)"])
                }
            }
            if currentRegistration == nil { await rejoin() }
            // Until the next beat, unless a step finds the registration over before.
            let next = ContinuousClock.now + heartbeatInterval
            while !Task.isCancelled, currentRegistration != nil, ContinuousClock.now < next {
                try? await Task.sleep(for: min(next - .now, .milliseconds(50)))
            }
            if currentRegistration == nil { try? await Task.sleep(for: .milliseconds(50)) }
        }
    }

    /// Gives the jobs of dead workers back; dead-letters those that were with a dying worker three times.
    ///
    /// Not within a heartbeat timeout of a disturbance: after a Redis restart, a failover, a spell
    /// of refused writes or a step of Redis's clock, every heartbeat may look stale, and a worker
    /// that has not beaten its heart since is alive, with paid calls to write. Reaping it then
    /// would have its jobs called twice. Nor within a heartbeat timeout of this process's start:
    /// its first reading of Redis's clock may have come just after a step it cannot see.
    func reapDeadWorkers() async {
        let brokenConnections = NIOLockedValueBox(0)
        await every(heartbeatInterval) {
            // A connection that broke, whichever step met it, is a disturbance too.
            let broken = self.queue.brokenConnections
            if brokenConnections.withLockedValue({ seen in
                defer { seen = broken }
                return seen != broken
            }) {
                self.health.disturbed()
            }
            if let disturbance = self.health.lastDisturbance, ContinuousClock.now - disturbance < self.heartbeatTimeout
            {
                return
            }
            guard let registration = self.currentRegistration else { return }
            // Only on a heartbeat timeout of steady readings of Redis's clock (from this process's
            // start, or since its last step): the expectation and the step are read together, so a
            // heartbeat reading a step just now cannot slip between them.
            let timeout = Duration.milliseconds(Int64(self.configuration.heartbeatTimeout * 1000))
            guard
                let expected = self.membership.withLockedValue({ $0.redisClock.steadyExpectation(steadyFor: timeout) })
            else { return }
            let reaping: JobQueue.Reaping
            do {
                reaping = try await self.queue.reap(
                    registration,
                    heartbeatTimeout: self.configuration.heartbeatTimeout,
                    expectedRedisMilliseconds: expected / 1000,
                    clockTolerance: self.heartbeatInterval
                )
            } catch let error as RedisError where error.isConnectionProblem {
                self.health.redisDisturbed(error)
                throw error
            }
            switch reaping {
            case .reaped(let workers, let setAside):
                if workers > 0 {
                    self.logger.warning("recovered the jobs of dead workers", metadata: ["workers": "\(workers)"])
                }
                for job in setAside { await self.failLost(job) }
            case .clockStepped:
                // Its reading of Redis's clock is behind it: start afresh, and hold off a timeout.
                self.membership.withLockedValue { $0.redisClock.reset() }
                self.noteClockStep()
                self.logger.warning(
                    """
                    Redis's clock is not where this worker expected it (it stepped); not reaping for a heartbeat \
                    timeout
                    """
                )
            case .fenced:
                self.noteFenced(registration)
            }
        }
    }

    /// Dead-letters a job that was in the hands of a dying worker three times.
    func failLost(_ job: ReceivedJob) async {
        let error = JobError(
            .workerLost,
            """
            the job was in the hands of a worker process that died, three times; it is set aside so it cannot crash \
            more workers
            """
        )
        // Its image, when it reads: a copy of a job another holder finished is dropped, not failed.
        let digest = (try? intake.admit(job))?.image.digest
        // Held while it is failed: it is in this worker's list, and no lost take.
        let slot = held.withLockedValue { $0.hold(job) }
        var context = JobContext(job, takenAt: .now, logger: logger)
        context.counted(attemptsMade: 2)
        context.imageDigest = digest
        _ = await failForGood(context, error: error, provider: nil, mayTakeNext: false)
        held.withLockedValue { $0.forget(slot) }
    }

    /// Gives back jobs in this worker's processing list that no slot holds: a take whose reply was
    /// lost with a connection, a finish or give-back Redis refused for good (a step that failed
    /// for another reason than the connection). Such a job has no one running it, and the reaper
    /// never looks at a live worker. The list is compared with the jobs held a reply deadline
    /// later: whatever was listed before and is held by no slot then is given back. Right after a
    /// connection broke or the master moved, and every ``lostJobCheckInterval`` besides.
    /// (What a process of the same id left behind is given back when this one registers.)
    func recoverLostTakes() async {
        // Counted by the Redis client itself: whichever step met the broken connection.
        var handledLosses = 0
        var lastCheck = ContinuousClock.now
        while !Task.isCancelled {
            let losses = queue.brokenConnections
            let due = ContinuousClock.now - lastCheck >= Self.lostJobCheckInterval
            if losses > handledLosses || due, let registration = currentRegistration {
                do {
                    // (The job loop has written again the successes the old connection's server may
                    // have lost, before its next take: the jobs given back here find them.)
                    try await giveBackLostTakes(registration)
                    handledLosses = losses
                    lastCheck = .now
                } catch {
                    logger.debug("housekeeping step failed", metadata: ["error": "\(error)"])
                }
            }
            try? await Task.sleep(for: heartbeatInterval)
        }
    }

    /// How often the processing list is compared with the jobs held, connection failures or not.
    static let lostJobCheckInterval = Duration.seconds(30)

    /// Writes the failed results and replies of elements the takes refused for their size.
    func answerRefusedElements() async {
        while !Task.isCancelled {
            let refused = refusedElements.withLockedValue { refused in
                defer { refused = [] }
                return refused
            }
            await answerRefused(refused)
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    private func giveBackLostTakes(_ registration: WorkerRegistration) async throws {
        let listed = try await queue.processingFingerprints(worker: registration.worker)
        guard !listed.isEmpty else { return }
        try await Task.sleep(for: queue.replyDeadline + .seconds(1))
        var unheld = Dictionary(listed.map { ($0, 1) }, uniquingKeysWith: +)
        for element in held.withLockedValue({ $0.elements(heldUnder: registration) }) {
            unheld[JobQueue.fingerprint(of: element)]? -= 1
        }
        let moved = try await queue.giveBack(registration, fingerprints: unheld.filter { $0.value > 0 })
        if moved > 0 {
            logger.warning("gave back jobs whose take was lost with a Redis connection", metadata: ["jobs": "\(moved)"])
        }
    }

    func promoteDueRetries() async {
        // No retry waits longer than the cap, nor a cool-down: one due later was scheduled by a
        // clock that has since stepped back.
        let longestDelay =
            Duration.milliseconds(Int64(max(configuration.retryCap, configuration.rateCoolDown) * 1000)) + .seconds(60)
        await every(Self.promoteInterval) {
            let all = self.retriesDueNow.withLockedValue { $0 }
            while try await self.queue.promoteDueRetries(longestDelay: all ? .zero : longestDelay) > 0 {}
            if all {
                self.retriesDueNow.withLockedValue { $0 = false }
                self.logger.warning("Redis's clock stepped: every retry waiting was made due now")
            }
        }
    }

    func sampleDepths() async {
        await every(Self.depthSampleInterval) {
            let stats = try await self.queue.stats(heartbeatTimeout: self.configuration.heartbeatTimeout)
            self.metrics.queueLength("pending", stats.pending)
            self.metrics.queueLength("processing", stats.processing)
            self.metrics.queueLength("delayed", stats.delayed)
            self.metrics.queueLength("dead", stats.dead)
            // The dashboard's last hour: one sample per bucket, whichever process offers it first.
            try await self.queue.recordHistory(stats)
        }
    }

    /// When this process started, as its heartbeats report it.
    static let processStartedAt = Timestamp.iso8601()

    /// Runs `body` every `interval` until cancelled; a failure is logged and tried again next time.
    private func every(_ interval: Duration, _ body: @Sendable () async throws -> Void) async {
        while !Task.isCancelled {
            do {
                try await body()
            } catch {
                logger.debug("housekeeping step failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
