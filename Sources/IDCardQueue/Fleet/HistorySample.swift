import Foundation
import IDCardContract

/// One point of a queue's last hour (``JobQueue/history()``): depths as they were, and the
/// running totals whose differences between two samples are the rates.
public struct HistorySample: Sendable, Equatable {
    /// When (Redis's clock, Unix ms).
    public var at: Int64
    public var pending: Int
    public var processing: Int
    public var delayed: Int
    public var dead: Int
    public var workers: Int
    /// Totals since the queue's first job (``QueueStats``).
    public var succeeded: Int
    public var failed: Int
    public var retried: Int

    public init(stats: QueueStats, at: Int64 = 0) {
        self.at = at
        pending = stats.pending
        processing = stats.processing
        delayed = stats.delayed
        dead = stats.dead
        workers = stats.workers
        succeeded = stats.succeeded
        failed = stats.failed
        retried = stats.retried
    }

    /// The counts in the order they are stored and served.
    public var counts: KeyValuePairs<String, Int> {
        [
            "pending": pending, "processing": processing, "delayed": delayed, "dead": dead, "workers": workers,
            "succeeded": succeeded, "failed": failed, "retried": retried,
        ]
    }

    /// The stored fields after `"t"`, without braces.
    var storedFields: String { counts.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") }

    init?(stored data: Data) {
        guard let object = JSONValue.parse(data)?.objectValue, let at = object["t"]?.intValue else { return nil }
        func count(_ name: String) -> Int { Int(object[name]?.intValue ?? 0) }
        self.at = at
        pending = count("pending")
        processing = count("processing")
        delayed = count("delayed")
        dead = count("dead")
        workers = count("workers")
        succeeded = count("succeeded")
        failed = count("failed")
        retried = count("retried")
    }
}
