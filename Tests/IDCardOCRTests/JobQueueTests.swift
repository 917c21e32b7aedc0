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

    @Test("a failure of a job another holder of it finished with success is dropped: no dead letter, no failed result")
    func failureOfASucceededCopy() async throws {
        try await Harness.withRedis { redis in
            let queue = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: Harness.uniqueQueue()))
            let job = Harness.job(id: "copied", replyTo: queue.keys.reply("copied"))
            try await queue.enqueue([job, job])
            let first = try #require(try await Harness.take(from: queue))
            let second = try #require(try await Harness.take(from: queue))
            let success = JobResult(id: "copied", status: .succeeded, attempts: 1, durationMs: 1, imageDigest: "sha256:same")
            #expect(try await queue.finish(.init(job: first, result: success.encoded(), imageDigest: "sha256:same", resultTTLSeconds: 60)).step == .done)
            let failure = JobResult(id: "copied", status: .failed, attempts: 8, durationMs: 1, error: JobError(.attemptsExhausted, "test"))
            let letter = try DeadLetter.encode(second, error: JobError(.attemptsExhausted, "test"), attempts: 8, worker: "w")
            let ending = try await queue.finish(.init(job: second, result: failure.encoded(), imageDigest: "sha256:same", deadLetter: letter, resultTTLSeconds: 60))
            #expect(ending.copyOfSuccess && ending.step == .done)
            let stats = try await queue.stats()
            #expect(stats.dead == 0 && stats.processing == 0 && stats.failed == 0 && stats.succeeded == 1)
            #expect(try await queue.result(id: "copied")?.status == .succeeded)
            #expect(try await queue.redis.send("LLEN", .string(queue.keys.reply("copied"))).int == 1)
            // Another image under the id failing is a job of its own: dead-lettered.
            try await queue.enqueue(Harness.job(id: "copied"))
            let other = try #require(try await Harness.take(from: queue))
            let otherLetter = try DeadLetter.encode(other, error: JobError(.idConflict, "test"), attempts: 1, worker: "w")
            let conflict = try await queue.finish(.init(job: other, result: failure.encoded(), imageDigest: "sha256:other", deadLetter: otherLetter, resultTTLSeconds: 60))
            #expect(!conflict.copyOfSuccess)
            #expect(try await queue.stats().dead == 1)
            await queue.shutdown()
        }
    }
}
