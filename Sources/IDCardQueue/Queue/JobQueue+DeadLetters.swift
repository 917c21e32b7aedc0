import Foundation

/// Operators' view of `P:{Q}:dead`: list, put back, drop.
extension JobQueue {
    /// Dead letters, newest first, with their raw elements (needed to remove exactly one).
    public func deadLetters(limit: Int = 100) async throws -> [(element: Data, letter: DeadLetter?)] {
        let reply = try await redis.send("LRANGE", .string(keys.dead), "0", .int(max(limit, 1) - 1))
        return (reply.array ?? []).compactMap(\.data).map { ($0, DeadLetter(element: $0)) }
    }

    /// Puts dead letters back on `pending` unchanged, all of them or those whose job id is in `ids`.
    /// A sealed job is opened with `encryption` first; one that cannot be opened stays where it is.
    /// Returns how many went back, and how many sealed ones stayed.
    public func requeueDeadLetters(ids: Set<String>? = nil, opening encryption: EncryptionKeys? = nil) async throws -> (requeued: Int, leftSealed: Int) {
        var moved = 0
        var leftSealed: Set<Data> = []
        while true {
            let batch = try await deadLetters(limit: 1000)
            var movedInBatch = 0
            for (element, letter) in batch {
                guard var letter else { continue }
                if let ids, !(letter.id.map(ids.contains) ?? false) { continue }
                if letter.isSealed {
                    guard let encryption, let opened = try? letter.opened(with: encryption) else {
                        leftSealed.insert(element)
                        continue
                    }
                    letter = opened
                }
                let reply = try await redis.run(
                    QueueScripts.requeue, keys: [keys.dead, keys.pending, keys.attempts],
                    arguments: [.data(element), .data(letter.requeueElement), .string(letter.id ?? "")]
                )
                movedInBatch += reply.int ?? 0
            }
            moved += movedInBatch
            if movedInBatch == 0 || batch.count < 1000 { return (moved, leftSealed.count) }
        }
    }

    /// Drops every dead letter. Returns how many there were.
    public func purgeDeadLetters() async throws -> Int {
        try await redis.run(QueueScripts.purge, keys: [keys.dead], arguments: []).int ?? 0
    }
}
