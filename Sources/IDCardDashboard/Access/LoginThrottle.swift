import NIOConcurrencyHelpers

/// Slows password guessing per user name: after ``freeFailures`` failed sign-ins in a row, each
/// further attempt must wait twice as long as the last (1 s, 2 s, … up to ``longestWait``)
/// before it is even checked; a success clears the count. An attempt counts as failed from the
/// moment it is let through (``begin(_:now:)``), so attempts sent at once cannot all pass before
/// the first is recorded. Names that exist and names that do not are throttled alike.
public final class LoginThrottle: Sendable {
    public let freeFailures: Int
    public let longestWait: Duration
    /// Names tracked at most (each at most 64 characters: ``UsersFile/isValidName(_:)``); beyond,
    /// an arbitrary one is forgotten.
    public let capacity: Int
    private struct Record {
        var failures = 0
        var lastFailure: ContinuousClock.Instant
    }
    private let records = NIOLockedValueBox<[String: Record]>([:])

    public init(freeFailures: Int = 5, longestWait: Duration = .seconds(900), capacity: Int = 100_000) {
        self.freeFailures = freeFailures
        self.longestWait = longestWait
        self.capacity = capacity
    }

    /// Lets an attempt for `user` through, counting it as a failure until ``succeeded(_:)``; or
    /// returns how long `user` must still wait.
    public func begin(_ user: String, now: ContinuousClock.Instant = .now) -> Duration? {
        records.withLockedValue { records in
            if let record = records[user], record.failures >= freeFailures {
                let wait = Self.wait(afterFailures: record.failures, freeFailures: freeFailures, longest: longestWait)
                let remaining = record.lastFailure + wait - now
                if remaining > .zero { return remaining }
            }
            if records[user] == nil, records.count >= capacity { records.remove(at: records.startIndex) }
            records[user, default: Record(lastFailure: now)].failures += 1
            records[user]?.lastFailure = now
            return nil
        }
    }

    /// Names tracked now.
    var count: Int { records.withLockedValue { $0.count } }

    public func succeeded(_ user: String) {
        _ = records.withLockedValue { $0.removeValue(forKey: user) }
    }

    /// 1 s after the first failure past the free ones, doubling, at most `longest`.
    static func wait(afterFailures failures: Int, freeFailures: Int, longest: Duration) -> Duration {
        let doublings = min(max(0, failures - freeFailures), 20)
        return min(.seconds(1 << doublings), longest)
    }
}
