import Metrics
import NIOConcurrencyHelpers

/// Whether this worker should take jobs, as `/readyz` and `idocr_worker_ready` report it.
///
/// Ready means: Redis answers, and the recognizer's account is not refused. While the account is
/// refused the worker is paused: it takes no job until the next probe is due, then tries one.
public final class WorkerHealth: Sendable {
    struct State {
        var redisReachable = true
        /// Redis connection failures so far: each may have lost a reply.
        var connectionLosses = 0
        var lastConnectionLoss: ContinuousClock.Instant?
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

    public var isReady: Bool {
        state.withLockedValue { $0.redisReachable && $0.pausedReason == nil }
    }

    /// Why jobs are not being taken, when they are not.
    public var pausedReason: String? { state.withLockedValue(\.pausedReason) }

    /// When the paused worker may try its next job; `nil` while not paused.
    var nextProbe: ContinuousClock.Instant? { state.withLockedValue(\.nextProbe) }

    func redisReachable(_ reachable: Bool) {
        update { state in
            state.redisReachable = reachable
            if !reachable { state.noteConnectionLoss() }
        }
    }

    /// A housekeeping command failed for its connection: counted like the job loop's failures,
    /// without deciding readiness (the job loop does that).
    func connectionLost() {
        state.withLockedValue { $0.noteConnectionLoss() }
    }

    /// Redis connection failures so far.
    var connectionLosses: Int { state.withLockedValue(\.connectionLosses) }

    /// When a Redis command last failed for its connection.
    var lastConnectionLoss: ContinuousClock.Instant? { state.withLockedValue(\.lastConnectionLoss) }

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
            return state.redisReachable && state.pausedReason == nil
        }
        readyGauge.record(ready ? 1 : 0)
    }
}

extension WorkerHealth.State {
    mutating func noteConnectionLoss() {
        connectionLosses += 1
        lastConnectionLoss = .now
    }
}
