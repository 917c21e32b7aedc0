/// Exponential backoff with full jitter: the wait before attempt n+1 is random in [0, min(cap, base·2ⁿ⁻¹)].
///
/// Full jitter spreads a fleet's retries after a shared outage instead of retrying in lock step.
public struct RetryPolicy: Sendable {
    public var base: Duration
    public var cap: Duration

    public init(base: Duration = .seconds(1), cap: Duration = .seconds(300)) {
        self.base = base
        self.cap = cap
    }

    /// The ceiling after `attempt` failed attempts (1-based), without jitter.
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        let doublings = min(max(attempt - 1, 0), 40)
        let seconds = min(
            Double(cap / .milliseconds(1)) / 1000,
            Double(base / .milliseconds(1)) / 1000 * pow2(doublings)
        )
        return .milliseconds(Int64(seconds * 1000))
    }

    /// A wait in [0, ceiling]: `jitter` (0...1, random unless given) says where.
    public func delay(afterAttempt attempt: Int, jitter: Double = .random(in: 0...1)) -> Duration {
        let ceilingMillis = ceiling(afterAttempt: attempt) / .milliseconds(1)
        return .milliseconds(Int64(min(max(jitter, 0), 1) * ceilingMillis))
    }

    private func pow2(_ n: Int) -> Double { Double(UInt64(1) << UInt64(n)) }
}
