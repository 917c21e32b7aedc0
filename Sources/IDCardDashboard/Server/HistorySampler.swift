import IDCardQueue
import Logging
import ServiceLifecycle

/// Offers each queue's numbers to its history every ``JobQueue/historyBucket`` (the workers do
/// too; Redis keeps one sample per bucket), so the last hour's chart has data even while no
/// worker runs.
public struct HistorySampler: Service {
    let queues: [JobQueue]
    let heartbeatTimeout: Double
    let logger: Logger

    public func run() async throws {
        // The wait for the next sample ends at shutdown.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                for queue in queues { await sample(queue) }
                try await Task.sleep(for: JobQueue.historyBucket)
            }
        }
    }

    func sample(_ queue: JobQueue) async {
        do {
            try await queue.recordHistory(try await queue.stats(heartbeatTimeout: heartbeatTimeout))
        } catch {
            logger.debug("history sample failed", metadata: ["queue": "\(queue.keys.queue)", "error": "\(error)"])
        }
    }
}
