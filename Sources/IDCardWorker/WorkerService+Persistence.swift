import Dispatch
import IDCardContract
import IDCardQueue
import Logging

extension WorkerService {
    /// Runs a Redis step until Redis takes it: a job's state must reach Redis even across a Redis
    /// restart, a failover, or a spell of refused writes (`READONLY`, `MISCONF`, `OOM`, ...). A paid
    /// answer waits in memory meanwhile; the worker reports not ready and says why in its log.
    ///
    /// Other errors are thrown at once. Once the task is cancelled, tries go on for `keepTryingAfterCancel`
    /// (so a paid recognition is still stored during shutdown), then `CancellationError` is thrown.
    func persistently<T: Sendable>(
        _ step: String,
        keepTryingAfterCancel: Duration = .zero,
        _ operation: @Sendable () async throws -> T
    ) async throws -> T {
        var failures = 0
        var cancelledAt: ContinuousClock.Instant?
        while true {
            do {
                let value = try await operation()
                if failures > 0 { health.redisAnswered() }
                return value
            } catch let error as RedisError where error.isConnectionProblem {
                failures += 1
                health.redisFailed(error)
                if failures == 1 {
                    logger.warning(
                        "Redis cannot take this step now; retrying until it can",
                        metadata: [
                            "step": "\(step)", "reason": "\(error.readinessReason)", "error": "\(error)",
                        ]
                    )
                }
            }
            if Task.isCancelled {
                let since = cancelledAt ?? .now
                cancelledAt = since
                if ContinuousClock.now - since >= keepTryingAfterCancel { throw CancellationError() }
            }
            await Self.sleepIgnoringCancellation(Self.reconnectPolicy.delay(afterAttempt: failures))
        }
    }

    /// A pause that cancellation does not cut short, for retries that must continue while cancelled.
    static func sleepIgnoringCancellation(_ duration: Duration) async {
        let nanoseconds = max(0, Int(duration / .nanoseconds(1)))
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { continuation.resume() }
        }
    }
}
