import Foundation
import IDCardContract

/// Operators' view of `P:{Q}:dead`: list, put back, drop.
extension JobQueue {
    /// Dead letters, newest first from `offset`, with their raw elements (needed to remove exactly one).
    public func deadLetters(limit: Int = 100, offset: Int = 0) async throws -> [(element: Data, letter: DeadLetter?)] {
        let reply = try await redis.send("LRANGE", .string(keys.dead), .int(offset), .int(offset + max(limit, 1) - 1))
        return (reply.array ?? []).compactMap(\.data).map { ($0, DeadLetter(element: $0)) }
    }

    /// Dead letters for a page of the dashboard, newest first from `offset`: each with its size in
    /// bytes and the letter, or, above `largest` bytes, a summary of it without the job
    /// (``QueueScripts/deadLetterSummaries``): the error, attempts, time, worker and id, never an
    /// image. `letter` is `nil` for an element that is not a dead letter.
    public func deadLetterSummaries(
        offset: Int,
        count: Int,
        largest: Int = 16 * 1024
    ) async throws -> [(bytes: Int, letter: DeadLetter?, summarized: Bool)] {
        let reply = try await runScript(
            QueueScripts.deadLetterSummaries,
            keys: ["dead": keys.dead],
            arguments: ["offset": .int(max(0, offset)), "count": .int(max(1, count)), "most": .int(largest)]
        )
        return (reply.array ?? []).compactMap { entry in
            guard let parts = entry.array, parts.count == 2, let bytes = parts[0].int, let data = parts[1].data else {
                return nil
            }
            return (bytes, DeadLetter(element: data), bytes > largest)
        }
    }

    /// Puts dead letters back on `pending` unchanged, all of them or those whose job id is in `ids`
    /// and that `matching` accepts (an error code, say), wherever they are in the list. A sealed
    /// job is opened with `encryption` first; one that cannot be opened stays where it is, and so
    /// does one that is not a dead letter at all.
    /// Returns how many went back, and how many sealed ones stayed.
    /// - Parameter batchSize: letters read per round trip.
    public func requeueDeadLetters(
        ids: Set<String>? = nil,
        matching: (DeadLetter) -> Bool = { _ in true },
        opening encryption: EncryptionKeys? = nil,
        batchSize: Int = 1000
    ) async throws -> (requeued: Int, leftSealed: Int) {
        var moved = 0
        var leftSealed = 0
        // Walks from the oldest end, so letters pushed meanwhile (on the left: requeued jobs that
        // fail again among them) never shift what is still to be read, and stops after the letters
        // there were at the start; each requeued letter shortens the list behind the cursor.
        var fromEnd = 0
        var remaining = try await redis.send("LLEN", .string(keys.dead)).int ?? 0
        let batchSize = max(batchSize, 1)
        while remaining > 0 {
            let count = min(batchSize, remaining)
            let reply = try await redis.send(
                "LRANGE",
                .string(keys.dead),
                .int(-(fromEnd + count)),
                .int(-(fromEnd + 1))
            )
            let batch = (reply.array ?? []).compactMap(\.data)
            if batch.isEmpty { return (moved, leftSealed) }
            remaining -= batch.count
            var stayed = 0
            for element in batch.reversed() {
                guard var letter = DeadLetter(element: element),
                    ids.map({ letter.id.map($0.contains) ?? false }) ?? true, matching(letter)
                else {
                    stayed += 1
                    continue
                }
                if letter.isSealed {
                    guard let encryption, let opened = try? letter.opened(with: encryption) else {
                        leftSealed += 1
                        stayed += 1
                        continue
                    }
                    letter = opened
                }
                let requeued =
                    try await runScript(
                        QueueScripts.requeue,
                        keys: [
                            "dead": keys.dead, "pending": keys.pending, "attempts": keys.attempts,
                            "oversized": keys.oversized,
                        ],
                        arguments: [
                            "letter": .data(element), "element": .data(letter.requeueElement ?? Data()),
                            "id": .string(letter.id ?? ""), "oversizedField": .string(letter.oversized?.field ?? ""),
                        ]
                    ).int ?? 0
                // 0: the letter is gone already (another requeue), holding no place behind the
                // cursor; -1: it stays (its kept element was purged).
                if requeued > 0 { moved += 1 } else if requeued < 0 { stayed += 1 }
            }
            fromEnd += stayed
            if batch.count < count { return (moved, leftSealed) }
        }
        return (moved, leftSealed)
    }

    /// Drops every dead letter, and the oversized elements they kept. Returns how many there were.
    public func purgeDeadLetters() async throws -> Int {
        try await runScript(QueueScripts.purge, keys: ["dead": keys.dead, "oversized": keys.oversized]).int ?? 0
    }
}
