import Foundation
import IDCardQueue
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
    func reapDeadWorkers() async {
        await every(heartbeatInterval) {
            let (reaped, setAside) = try await self.queue.reap(worker: self.workerID, heartbeatTimeout: self.configuration.heartbeatTimeout)
            if reaped > 0 { self.logger.warning("recovered the jobs of dead workers", metadata: ["workers": "\(reaped)"]) }
            for job in setAside {
                let error = JobError(.workerLost, "the job was in the hands of a worker process that died, three times; it is set aside so it cannot crash more workers")
                _ = await self.failForGood(job, error: error, attempts: 3, provider: nil, takenAt: .now, logger: self.logger, mayTakeNext: false)
            }
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
