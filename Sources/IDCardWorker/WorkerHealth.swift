import IDCardContract
import IDCardQueue
import Metrics
import NIOConcurrencyHelpers

/// Whether this worker should take jobs, as `/readyz` and `idocr_worker_ready` report it.
///
/// Ready means: Redis answers and accepts writes, and the recognizer's account is not refused.
/// While the account is refused the worker is paused: it takes no job until the next probe is
/// due, then tries one.
public final class WorkerHealth: Sendable {
    struct State {
        /// Why Redis cannot be used now (unreachable, or refusing writes); `nil` while it can.
        var redisProblem: String?
        /// When the fleet's view of time or liveness was last disturbed: a Redis failure (every
        /// worker may have met it; while Redis refused writes no heartbeat was recorded), a
        /// failover, a step of Redis's clock. The reaper waits a heartbeat timeout after it, so
        /// that live workers can beat again first.
        var lastDisturbance: ContinuousClock.Instant?
        var pausedReason: String?
        var failedProbes = 0
        var nextProbe: ContinuousClock.Instant?
        var pausedSince: ContinuousClock.Instant?
    }

    private let state = NIOLockedValueBox(State())
    private let readyGauge: Gauge
    private let probePolicy: RetryPolicy

    public init(probePolicy: RetryPolicy = RetryPolicy(base: .seconds(2), cap: .seconds(120))) {
        self.probePolicy = probePolicy
        self.readyGauge = Gauge(label: "idocr_worker_ready")
        readyGauge.record(1)
    }

    public var isReady: Bool { notReadyReason == nil }

    /// Why the worker is not ready, for `/readyz`; `nil` while it is.
    public var notReadyReason: String? {
        state.withLockedValue { $0.redisProblem ?? $0.pausedReason }
    }

    /// Why jobs are not being taken, when the account or configuration is refused.
    public var pausedReason: String? { state.withLockedValue(\.pausedReason) }

    /// When the paused worker may try its next job; `nil` while not paused.
    var nextProbe: ContinuousClock.Instant? { state.withLockedValue(\.nextProbe) }

    /// Redis answered a step: clears a Redis problem.
    func redisAnswered() {
        update { $0.redisProblem = nil }
    }

    /// A step failed for Redis: unreachable, or refusing writes (`READONLY`, `MISCONF`, `OOM`, ...).
    /// - Returns: true when this began the problem (not ready from now), for logging once.
    @discardableResult
    func redisFailed(_ error: RedisError) -> Bool {
        var began = false
        update { state in
            began = state.redisProblem == nil
            state.redisProblem = error.readinessReason
            state.lastDisturbance = .now
        }
        return began
    }

    /// A housekeeping command failed for Redis: it holds the reaper off like the job loop's
    /// failures, without deciding readiness (the job loop does that).
    func redisDisturbed(_ error: RedisError) {
        disturbed()
    }

    /// Redis's clock stepped, or a connection broke: the reaper holds off for a heartbeat timeout.
    func disturbed() {
        state.withLockedValue { $0.lastDisturbance = .now }
    }

    /// When the fleet's view of liveness was last disturbed (see ``State/lastDisturbance``).
    var lastDisturbance: ContinuousClock.Instant? { state.withLockedValue(\.lastDisturbance) }

    /// The account or configuration was refused: stop taking jobs until a probe gets through.
    /// Only a call started during the pause (a probe) pushes the next probe further out; the other
    /// jobs that were in flight when the pause began fail alike and say nothing new.
    /// - Returns: how long until the next probe.
    @discardableResult
    func pause(reason: String, callStartedAt: ContinuousClock.Instant) -> Duration {
        var wait = Duration.zero
        update { state in
            let now = ContinuousClock.now
            if let since = state.pausedSince, callStartedAt < since, let next = state.nextProbe {
                wait = next - now
                return
            }
            state.failedProbes += 1
            state.pausedReason = reason
            state.pausedSince = now
            wait = probePolicy.ceiling(afterAttempt: state.failedProbes)
            state.nextProbe = now + wait
        }
        return wait
    }

    /// A recognizer answered without an account problem.
    /// - Returns: true when this ended a pause.
    @discardableResult
    func recognizerAnswered() -> Bool {
        var resumed = false
        update { state in
            resumed = state.pausedReason != nil
            state.pausedReason = nil
            state.failedProbes = 0
            state.nextProbe = nil
            state.pausedSince = nil
        }
        return resumed
    }

    private func update(_ change: (inout State) -> Void) {
        let ready = state.withLockedValue { state in
            change(&state)
            return state.redisProblem == nil && state.pausedReason == nil
        }
        readyGauge.record(ready ? 1 : 0)
    }
}
