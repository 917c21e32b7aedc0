import Foundation
import IDCardContract

/// The queue's last hour, kept in Redis (`P:{Q}:history`) for the dashboard's chart: every
/// worker offers a sample with its depth sampling, the dashboard too, one per bucket is kept.
extension JobQueue {
    /// One sample per this much time.
    public static let historyBucket = Duration.seconds(10)
    /// Samples kept: an hour of them.
    public static let historyLength = 360

    /// Offers `stats` as the current bucket's sample. Returns true when it was the one written.
    @discardableResult
    public func recordHistory(_ stats: QueueStats) async throws -> Bool {
        try await runScript(
            QueueScripts.recordHistory,
            keys: ["history": keys.history],
            arguments: [
                "fields": .string(HistorySample(stats: stats).storedFields),
                "bucketMs": .int(Int(Self.historyBucket / .milliseconds(1))), "keep": .int(Self.historyLength),
            ]
        ).int == 1
    }

    /// The samples kept, oldest first.
    public func history() async throws -> [HistorySample] {
        let reply = try await redis.send("LRANGE", .string(keys.history), "0", "-1")
        return (reply.array ?? []).compactMap(\.data).compactMap(HistorySample.init(stored:)).reversed()
    }
}
