import IDCardQueue

/// Late calls push the fleet's schedule back.
///
/// A strict limiter counts calls as they arrive. Slots are spaced 1.5 % wider than the rate, 15 ms
/// a second, so the usual jitter fits; but a call that leaves well after its slot — a cold HTTP
/// client, a starved or CPU-throttled process, a slow Redis reply — lands among the on-time calls
/// of later slots, and a few of those in one second make the limiter refuse one. Each call
/// reports when its request started going out; lateness beyond ``lateCallTolerance`` must be
/// matched by pushing the schedule back between its slot and the slots a second later. The fleet
/// counts its push-back in all (``JobQueue/gate(jobID:imageKey:rateInterval:pushedTo:)``), so
/// pushes made for one late call cover the others: a fleet uniformly slow pays once, not per call.
extension WorkerService {
    /// The part of the spacing margin a call's lateness may use on its own; the rest is for what
    /// no worker sees (the network, the server's own queueing).
    static let lateCallTolerance = Duration.milliseconds(5)

    /// Runs on the HTTP client's event loop when a rate-limited call's request head has been written.
    func noteCallSent(_ slot: RateSlot) {
        let excess = ContinuousClock.now - slot.at - Self.lateCallTolerance
        guard excess > .zero else { return }
        owePushBack(to: slot.pushed + excess)
        metrics.rateLateCalls.increment()
    }

    /// The push-back level this process's late calls need, for the next gate to pass to Redis.
    func takeRatePushBack() -> Duration {
        ratePushBack.withLockedValue { level in
            defer { level = .zero }
            return level
        }
    }

    /// Raises the level the next gate passes; also keeps what a failed gate could not pass.
    func owePushBack(to level: Duration) {
        ratePushBack.withLockedValue { $0 = max($0, level) }
    }
}
