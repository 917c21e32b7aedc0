import Crypto
import Foundation
import IDCardQueue
import IDCardRecognition
import Logging

/// Work every worker does beside its jobs, so the fleet needs no coordinator.
extension WorkerService {
    func beatHeart() async {
        await every(heartbeatInterval) {
            if try await self.queue.heartbeat(worker: self.workerID, pausedReason: self.health.pausedReason) {
                self.logger.warning("this worker had been presumed dead and its jobs given back; registered again")
            }
        }
    }

    /// Gives the jobs of dead workers back; dead-letters those that were with a dying worker three times.
    ///
    /// Not within a heartbeat timeout of losing Redis: every worker may have lost it (a Redis
    /// restart), and one that has not beaten its heart again yet is alive, with paid calls to write.
    /// Reaping it then would have its jobs called twice.
    func reapDeadWorkers() async {
        let heartbeatTimeout = Duration.milliseconds(Int64(configuration.heartbeatTimeout * 1000))
        await every(heartbeatInterval) {
            if let loss = self.health.lastConnectionLoss, ContinuousClock.now - loss < heartbeatTimeout { return }
            let reaped: Int, setAside: [ReceivedJob]
            do {
                (reaped, setAside) = try await self.queue.reap(worker: self.workerID, heartbeatTimeout: self.configuration.heartbeatTimeout)
            } catch let error as RedisError where error.isConnectionProblem {
                self.health.connectionLost()
                throw error
            }
            if reaped > 0 { self.logger.warning("recovered the jobs of dead workers", metadata: ["workers": "\(reaped)"]) }
            for job in setAside {
                let error = JobError(.workerLost, "the job was in the hands of a worker process that died, three times; it is set aside so it cannot crash more workers")
                _ = await self.failForGood(job, error: error, attempts: 3, provider: nil, takenAt: .now, logger: self.logger, mayTakeNext: false)
            }
        }
    }

    /// Gives back jobs whose take ran in Redis but whose reply was lost with a connection: such a
    /// job sits in this worker's processing list with no slot running it, and the reaper never
    /// looks at a live worker. After a connection failure, the list is compared with the jobs held
    /// a reply deadline later: whatever was listed before and is held by no slot then is given back.
    /// Also once at start: a process that died under the same `IDOCR_WORKER_ID` (a container
    /// restarted in its pod) left its jobs in the list this one now heartbeats for.
    func recoverLostTakes() async {
        var handledLosses = -1
        while !Task.isCancelled {
            let losses = health.connectionLosses
            if losses > handledLosses {
                do {
                    try await giveBackLostTakes()
                    handledLosses = losses
                } catch {
                    logger.debug("housekeeping step failed", metadata: ["error": "\(error)"])
                }
            }
            try? await Task.sleep(for: heartbeatInterval)
        }
    }

    private func giveBackLostTakes() async throws {
        let listed = try await queue.processingDigests(worker: workerID)
        guard !listed.isEmpty else { return }
        try await Task.sleep(for: queue.replyDeadline + .seconds(1))
        var unheld = Dictionary(listed.map { ($0, 1) }, uniquingKeysWith: +)
        for element in held.withLockedValue({ $0.all }) {
            unheld[Insecure.SHA1.hash(data: element).lowercaseHex]? -= 1
        }
        let moved = try await queue.giveBack(worker: workerID, digests: unheld.filter { $0.value > 0 })
        if moved > 0 {
            logger.warning("gave back jobs whose take was lost with a Redis connection", metadata: ["jobs": "\(moved)"])
        }
    }

    func promoteDueRetries() async {
        await every(Self.promoteInterval) {
            while try await self.queue.promoteDueRetries() > 0 {}
        }
    }

    func sampleDepths() async {
        await every(Self.depthSampleInterval) {
            let stats = try await self.queue.stats(heartbeatTimeout: self.configuration.heartbeatTimeout)
            self.metrics.queueLength("pending", stats.pending)
            self.metrics.queueLength("processing", stats.processing)
            self.metrics.queueLength("delayed", stats.delayed)
            self.metrics.queueLength("dead", stats.dead)
        }
    }

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
