import Foundation
import IDCardContract

/// An operator's hold on a queue: while it stands no worker takes a job (jobs in flight finish,
/// retries still come due into `pending`), and producers' pushes wait there.
public struct QueuePause: Sendable, Equatable {
    /// Who paused it: a dashboard user or `cli`.
    public var by: String
    /// When (ISO 8601, the pausing process's clock).
    public var at: String
    /// Why, as the operator wrote it; may be empty.
    public var reason: String

    public init(by: String, at: String = Timestamp.iso8601(), reason: String = "") {
        self.by = by
        self.at = at
        self.reason = reason
    }

    /// The value of `P:{Q}:pause`.
    func encoded() -> Data {
        JSONValue.object(["by": .string(by), "at": .string(at), "reason": .string(reason)]).encoded()
    }

    /// Reads a stored pause; one that is not ours still pauses the queue, so it reads as unknown.
    init(encoded data: Data) {
        guard !data.isEmpty else {
            self.init(by: "?", at: "?")
            return
        }
        let object = JSONValue.parse(data)
        self.init(
            by: object?["by"]?.stringValue ?? "?",
            at: object?["at"]?.stringValue ?? "?",
            reason: object?["reason"]?.stringValue ?? ""
        )
    }
}
