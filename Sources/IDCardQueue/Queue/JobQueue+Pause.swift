import Foundation
import IDCardContract

/// An operator's hold on the whole queue (the dashboard's pause button, `P:{Q}:pause`).
extension JobQueue {
    /// Stops every worker of the fleet taking this queue's jobs: the take steps find the pause in
    /// Redis, in the same script that would move a job, so no worker takes one after this returns.
    /// Jobs already held finish; retries still come due into `pending`, where they wait with new
    /// pushes. Pausing a paused queue replaces who and why.
    public func pause(by: String, reason: String = "") async throws {
        _ = try await redis.send("SET", .string(keys.pause), .data(QueuePause(by: by, reason: reason).encoded()))
    }

    /// Lets workers take jobs again. Returns false when the queue was not paused.
    @discardableResult
    public func resume() async throws -> Bool {
        (try await redis.send("DEL", .string(keys.pause)).int ?? 0) > 0
    }

    /// The queue's pause, `nil` while it runs.
    public func pauseState() async throws -> QueuePause? {
        try await redis.send("GET", .string(keys.pause)).data.map(QueuePause.init(encoded:))
    }
}
