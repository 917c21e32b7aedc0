import IDCardContract

/// Tells a step of Redis's clock (an NTP correction, a VM restored from a snapshot, a failover to
/// a host whose clock is off) from time passing, by pairing its readings with this process's
/// monotonic clock.
///
/// Redis read its clock somewhere between the command's sending and its reply, so each reading
/// places Redis's clock within an interval of this process's; a step is two readings whose
/// intervals lie more than the tolerance apart. A slow reply (a loaded machine) widens the
/// interval instead of faking a step.
public struct RedisClockWatch: Sendable {
    /// Redis's clock minus this process's monotonic clock (µs), as bounded by the last reading.
    private var offset: ClosedRange<Int64>?
    /// When the readings last started afresh: the first one, or the last step.
    private var steadySince: ContinuousClock.Instant?

    public init() {}

    /// Takes a reading of Redis's clock (`redisMicroseconds`, µs since the Unix epoch) made by a
    /// command sent at `sentAt` and answered at `answeredAt`.
    /// - Returns: how far Redis's clock stepped since the last reading (µs), when it did by more than `tolerance`.
    public mutating func observe(
        redisMicroseconds: Int64,
        sentAt: ContinuousClock.Instant,
        answeredAt: ContinuousClock.Instant,
        tolerance: Duration
    ) -> Int64? {
        // Redis's clock read somewhere between sending and answering: its offset lies in this range.
        let earliest = redisMicroseconds - Timestamp.monotonicMicroseconds(answeredAt)
        let latest = redisMicroseconds - Timestamp.monotonicMicroseconds(sentAt)
        let reading = earliest...latest
        defer { offset = reading }
        guard let offset else {
            steadySince = answeredAt
            return nil
        }
        let slack = Int64(tolerance / .microseconds(1))
        var step: Int64?
        if reading.lowerBound > offset.upperBound + slack { step = reading.lowerBound - offset.upperBound }
        if reading.upperBound < offset.lowerBound - slack { step = reading.upperBound - offset.lowerBound }
        if step != nil { steadySince = answeredAt }
        return step
    }

    /// Where Redis's clock should be at `instant` (µs since the Unix epoch); `nil` before any reading.
    public func expectedRedisMicroseconds(at instant: ContinuousClock.Instant = .now) -> Int64? {
        offset.map { $0.upperBound + Timestamp.monotonicMicroseconds(instant) }
    }

    /// Where Redis's clock should be at `instant`, for a decision made on other processes'
    /// timestamps (the reaper's): `nil` until the readings have gone `steadyFor` without a step,
    /// counted from the first one. A process whose first reading came after a step forward sees
    /// no step, yet every heartbeat beaten before it looks a step old; and one that has just
    /// seen a step has adopted the new clock. Either way the others' heartbeats are right again
    /// only once each has beaten since: a heartbeat timeout of steady readings.
    public func steadyExpectation(at instant: ContinuousClock.Instant = .now, steadyFor: Duration) -> Int64? {
        guard let steadySince, instant - steadySince >= steadyFor else { return nil }
        return expectedRedisMicroseconds(at: instant)
    }

    /// Forgets the readings: the next one starts afresh.
    public mutating func reset() {
        offset = nil
        steadySince = nil
    }
}
