import Foundation
@testable import IDCardQueue
import IDCardTestSupport
import Testing

/// A worker repeats a step whose reply was lost with its connection: the step must not happen twice.
@Suite("The queue's last steps, repeated")
struct JobQueueTests {
    @Test("a failure's finish run twice: one dead letter, one reply, one failure counted")
    func finishTwice() async throws {
        try await Harness.withRedis { redis in
            let queue = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: Harness.uniqueQueue()))
            let replyTo = queue.keys.reply("twice")
            try await queue.enqueue([Harness.job(id: "twice", replyTo: replyTo)])
            let job = try #require(try await Harness.take(from: queue))
            let completion = JobQueue.Completion(
                job: job, result: Data(#"{"id":"twice","status":"failed"}"#.utf8),
                deadLetter: try DeadLetter.encode(job, error: JobError(.attemptsExhausted, "test"), attempts: 5, worker: "w"), resultTTLSeconds: 60
            )
            #expect(try await queue.finish(completion).step == .done)
            #expect(try await queue.finish(completion).step == .notHeld)
            let letters = try await queue.deadLetters()
            #expect(letters.count == 1)
            #expect(letters.first?.letter?.job == JSONValue.parse(job.element))  // the element, spliced in by the script
            #expect(try await queue.redis.send("LLEN", .string(replyTo)).int == 1)
            #expect(try await queue.redis.send("HGET", .string(queue.keys.finished), "failed").data == Data("1".utf8))
            await queue.shutdown()
        }
    }

    @Test("a retry scheduled twice: the job waits in `delayed` once")
    func retryTwice() async throws {
        try await Harness.withRedis { redis in
            let queue = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: Harness.uniqueQueue()))
            try await queue.enqueue([Harness.job(id: "again")])
            let job = try #require(try await Harness.take(from: queue))
            for _ in 0..<2 {
                try await queue.scheduleRetry(job, id: "again", after: .seconds(60), attemptsMade: 1)
            }
            let stats = try await queue.stats()
            #expect(stats.delayed == 1 && stats.processing == 0)
            await queue.shutdown()
        }
    }
}
