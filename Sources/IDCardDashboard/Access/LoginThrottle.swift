import NIOConcurrencyHelpers

/// Slows password guessing per user name: after ``freeFailures`` failed logins in a row, each
/// further attempt must wait twice as long as the last (1 s, 2 s, … up to ``longestWait``),
/// success or not; a success clears the count. Names that exist and names that do not are
/// throttled alike, so the answer does not tell which is which.
public final class LoginThrottle: Sendable {
    public let freeFailures: Int
    public let longestWait: Duration
    private struct Record {
        var failures = 0
        var lastFailure: ContinuousClock.Instant
    }
    private let records = NIOLockedValueBox<[String: Record]>([:])

    public init(freeFailures: Int = 5, longestWait: Duration = .seconds(900)) {
        self.freeFailures = freeFailures
        self.longestWait = longestWait
    }

    /// How long `user` must still wait before an attempt is even checked; `nil` when it may try now.
    public func waitBeforeAttempt(_ user: String, now: ContinuousClock.Instant = .now) -> Duration? {
        records.withLockedValue { records in
            guard let record = records[user], record.failures >= freeFailures else { return nil }
            let wait = Self.wait(afterFailures: record.failures, freeFailures: freeFailures, longest: longestWait)
            let remaining = record.lastFailure + wait - now
            return remaining > .zero ? remaining : nil
        }
    }

    public func failed(_ user: String, now: ContinuousClock.Instant = .now) {
        records.withLockedValue { records in
            // Bounded: a flood of made-up names forgets the oldest first.
            if records.count > 100_000, let oldest = records.min(by: { $0.value.lastFailure < $1.value.lastFailure }) {
                records[oldest.key] = nil
            }
            records[user, default: Record(lastFailure: now)].failures += 1
            records[user]?.lastFailure = now
        }
    }

    public func succeeded(_ user: String) {
        _ = records.withLockedValue { $0.removeValue(forKey: user) }
    }

    /// 1 s after the first failure past the free ones, doubling, at most `longest`.
    static func wait(afterFailures failures: Int, freeFailures: Int, longest: Duration) -> Duration {
        let doublings = min(failures - freeFailures, 20)
        return min(.seconds(1 << doublings), longest)
    }
}
