import IDCardQueue

/// Jobs per minute over the last minute of the queue's history (Redis-stamped samples, so no two
/// clocks are mixed): the difference of the running totals over the time between two samples.
public struct QueueRates: Sendable, Equatable {
    public var succeeded: Double
    public var failed: Double
    public var retried: Double

    /// `nil` until the history (oldest first) spans 50 s (a minute, give or take a bucket).
    public static func lastMinute(history: [HistorySample]) -> QueueRates? {
        guard let now = history.last, let then = history.last(where: { now.at - $0.at >= 50_000 }) else {
            return nil
        }
        let minutes = Double(now.at - then.at) / 60_000
        func rate(_ a: Int, _ b: Int) -> Double { Double(max(0, a - b)) / minutes }
        return QueueRates(
            succeeded: rate(now.succeeded, then.succeeded),
            failed: rate(now.failed, then.failed),
            retried: rate(now.retried, then.retried)
        )
    }
}
