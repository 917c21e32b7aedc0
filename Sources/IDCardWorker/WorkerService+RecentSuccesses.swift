import DequeModule
import Foundation
import IDCardContract
import IDCardQueue

/// The successes this worker stored in the last few seconds, written again after a connection
/// broke or the master moved.
///
/// Redis replicates asynchronously: a master that fails (or, in a Sentinel failover, goes on
/// taking writes until it is told it is a replica) may have acknowledged results the new master
/// never got. Their jobs come back (still pending there, or given back from this worker's list)
/// and would be paid for again; with their results written again first, they are deduplicated.
/// Only successes: they are what was paid for. Bounded by age and count, so a fast fleet holds
/// a few megabytes at most.
extension WorkerService {
    struct RecentSuccesses {
        /// Oldest first, as added: what aged out or is one too many is always at the front, so an
        /// add costs what it drops (a scan of every entry per success was about a quarter
        /// of a busy worker's CPU, by perf).
        var entries = Deque<(id: String, result: Data, at: ContinuousClock.Instant)>()

        mutating func add(id: String, result: Data) {
            let now = ContinuousClock.now
            while let oldest = entries.first, now - oldest.at > WorkerService.recentSuccessWindow {
                entries.removeFirst()
            }
            if entries.count >= WorkerService.recentSuccessLimit {
                entries.removeFirst(entries.count - WorkerService.recentSuccessLimit + 1)
            }
            entries.append((id, result, now))
        }

        mutating func takeAll() -> [(id: String, result: Data)] {
            let now = ContinuousClock.now
            defer { entries = [] }
            return entries.filter { now - $0.at <= WorkerService.recentSuccessWindow }.map { ($0.id, $0.result) }
        }
    }

    /// Longer than a Sentinel takes to confirm a promotion, and than replication usually lags.
    static let recentSuccessWindow = Duration.seconds(10)
    static let recentSuccessLimit = 4000

    func rememberSuccess(id: String, result: Data) {
        recentSuccesses.withLockedValue { $0.add(id: id, result: result) }
    }

    /// Writes the recent successes again, after a broken connection or a new master.
    func restoreRecentSuccesses() async throws {
        let recent = recentSuccesses.withLockedValue { $0.takeAll() }
        var restored = 0
        for (index, entry) in recent.enumerated() {
            do {
                if try await queue.restoreSuccess(
                    id: entry.id,
                    result: entry.result,
                    resultTTLSeconds: configuration.resultTTL
                ) {
                    restored += 1
                }
            } catch {
                // Keep what is left for the next try.
                recentSuccesses.withLockedValue { remaining in
                    for later in recent[index...] { remaining.add(id: later.id, result: later.result) }
                }
                throw error
            }
        }
        if restored > 0 {
            logger.warning(
                "wrote again results Redis had lost (a failover, or a restart from an older snapshot)",
                metadata: ["results": "\(restored)"]
            )
        }
    }
}
