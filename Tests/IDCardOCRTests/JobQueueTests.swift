import Foundation
import IDCardContract
import IDCardTestSupport
import Testing

@testable import IDCardQueue

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
                job: job,
                result: Data(#"{"id":"twice","status":"failed"}"#.utf8),
                deadLetter: try DeadLetter.encode(
                    job,
                    error: JobError(.attemptsExhausted, "test"),
                    attempts: 5,
                    worker: "w"
                ),
                resultTTLSeconds: 60
            )
            #expect(try await queue.finish(completion).step == .done)
            #expect(try await queue.finish(completion).step == .notHeld)
            let letters = try await queue.deadLetters()
            #expect(letters.count == 1)
            // The element, spliced in by the script:
            #expect(letters.first?.letter?.job == JSONValue.parse(job.element))
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
            let success = JobResult(
                id: "copied",
                status: .succeeded,
                attempts: 1,
                durationMs: 1,
                imageDigest: "sha256:same"
            )
            #expect(
                try await queue.finish(
                    .init(job: first, result: success.encoded(), imageDigest: "sha256:same", resultTTLSeconds: 60)
                ).step == .done
            )
            let failure = JobResult(
                id: "copied",
                status: .failed,
                attempts: 8,
                durationMs: 1,
                error: JobError(.attemptsExhausted, "test")
            )
            let letter = try DeadLetter.encode(
                second,
                error: JobError(.attemptsExhausted, "test"),
                attempts: 8,
                worker: "w"
            )
            let ending = try await queue.finish(
                .init(
                    job: second,
                    result: failure.encoded(),
                    imageDigest: "sha256:same",
                    deadLetter: letter,
                    resultTTLSeconds: 60
                )
            )
            #expect(ending.copyOfSuccess && ending.step == .done)
            let stats = try await queue.stats()
            // Each pushed copy ends once, as the success: counted, and answered on its replyTo.
            #expect(stats.dead == 0 && stats.processing == 0 && stats.failed == 0 && stats.succeeded == 2)
            #expect(try await queue.result(id: "copied")?.status == .succeeded)
            let replies =
                try await queue.redis.send("LRANGE", .string(queue.keys.reply("copied")), "0", "-1").array ?? []
            #expect(replies.count == 2 && replies.allSatisfy { $0.string?.contains("succeeded") == true })
            // Another image under the id failing is a job of its own: dead-lettered.
            try await queue.enqueue(Harness.job(id: "copied"))
            let other = try #require(try await Harness.take(from: queue))
            let otherLetter = try DeadLetter.encode(
                other,
                error: JobError(.idConflict, "test"),
                attempts: 1,
                worker: "w"
            )
            let conflict = try await queue.finish(
                .init(
                    job: other,
                    result: failure.encoded(),
                    imageDigest: "sha256:other",
                    deadLetter: otherLetter,
                    resultTTLSeconds: 60
                )
            )
            #expect(!conflict.copyOfSuccess)
            #expect(try await queue.stats().dead == 1)
            await queue.shutdown()
        }
    }

    /// The 10,000-job chaos run ended two jobs with a success and a dead letter: a producer's
    /// duplicate shares its copy's fingerprint, so their losses with killed workers add up, and
    /// one copy was set aside as `worker_lost` while the other was being called.
    @Test(
        "a success of a copy another holder failed for good takes that failure's dead letter back: one terminal state"
    )
    func successOfAFailedCopy() async throws {
        try await Harness.withRedis { redis in
            let queue = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: Harness.uniqueQueue()))
            let job = Harness.job(id: "twin", replyTo: queue.keys.reply("twin"))
            let other = Harness.job(id: "stranger")
            try await queue.enqueue([job, other, job])
            let first = try #require(try await Harness.take(from: queue))
            let stranger = try #require(try await Harness.take(from: queue))
            let second = try #require(try await Harness.take(from: queue))
            func fail(_ held: ReceivedJob, id: String) async throws {
                let failure = JobResult(
                    id: id,
                    status: .failed,
                    attempts: 3,
                    durationMs: 1,
                    error: JobError(.workerLost, "test")
                )
                let letter = try DeadLetter.encode(held, error: JobError(.workerLost, "test"), attempts: 3, worker: "w")
                let completion = JobQueue.Completion(
                    job: held,
                    result: failure.encoded(),
                    imageDigest: "sha256:\(id)",
                    deadLetter: letter,
                    resultTTLSeconds: 60
                )
                #expect(try await queue.finish(completion).step == .done)
            }
            try await fail(first, id: "twin")
            try await fail(stranger, id: "stranger")
            #expect(try await queue.stats().dead == 2)
            let success = JobResult(
                id: "twin",
                status: .succeeded,
                attempts: 1,
                durationMs: 1,
                imageDigest: "sha256:twin"
            )
            #expect(
                try await queue.finish(
                    .init(job: second, result: success.encoded(), imageDigest: "sha256:twin", resultTTLSeconds: 60)
                ).step == .done
            )
            #expect(try await queue.result(id: "twin")?.status == .succeeded)
            let stats = try await queue.stats()
            #expect(stats.dead == 1 && stats.failed == 1 && stats.succeeded == 1 && stats.processing == 0)
            // The letter left is the other job's.
            #expect(try await queue.deadLetters().first?.letter?.job?["id"] == .string("stranger"))
            await queue.shutdown()
        }
    }

    @Test("a late success of a job its next holder failed for good stores nothing over that failure")
    func lateSuccessAfterFailure() async throws {
        try await Harness.withRedis { redis in
            let queue = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: Harness.uniqueQueue()))
            try await queue.enqueue([Harness.job(id: "late")])
            let first = try #require(try await Harness.take(from: queue))
            // Given back (the holder looked dead), taken again and failed for good.
            #expect(try await queue.giveBack(first) == .done)
            let second = try #require(try await Harness.take(from: queue))
            let failure = JobResult(
                id: "late",
                status: .failed,
                attempts: 8,
                durationMs: 1,
                error: JobError(.attemptsExhausted, "test")
            )
            let letter = try DeadLetter.encode(
                second,
                error: JobError(.attemptsExhausted, "test"),
                attempts: 8,
                worker: "w"
            )
            #expect(
                try await queue.finish(
                    .init(
                        job: second,
                        result: failure.encoded(),
                        imageDigest: "sha256:same",
                        deadLetter: letter,
                        resultTTLSeconds: 60
                    )
                ).step == .done
            )
            // The first holder's call comes back with a reading: its job is no longer its own.
            let success = JobResult(
                id: "late",
                status: .succeeded,
                attempts: 1,
                durationMs: 1,
                imageDigest: "sha256:same"
            )
            #expect(
                try await queue.finish(
                    .init(job: first, result: success.encoded(), imageDigest: "sha256:same", resultTTLSeconds: 60)
                ).step == .notHeld
            )
            #expect(try await queue.result(id: "late")?.status == .failed)
            let stats = try await queue.stats()
            #expect(stats.failed == 1 && stats.succeeded == 0 && stats.dead == 1)
            await queue.shutdown()
        }
    }

    @Test("a replyTo key of the queue's namespace that is no list is passed over: the job still ends")
    func replyToOfAnotherType() async throws {
        try await Harness.withRedis { redis in
            let queue = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: Harness.uniqueQueue()))
            let replyTo = queue.keys.reply("typed")
            _ = try await queue.redis.send("SET", .string(replyTo), "a string someone left here")
            try await queue.enqueue([Harness.job(id: "typed", replyTo: replyTo)])
            let job = try #require(try await Harness.take(from: queue))
            let success = JobResult(
                id: "typed",
                status: .succeeded,
                attempts: 1,
                durationMs: 1,
                imageDigest: "sha256:x"
            )
            #expect(
                try await queue.finish(
                    .init(job: job, result: success.encoded(), imageDigest: "sha256:x", resultTTLSeconds: 60)
                ).step == .done
            )
            #expect(try await queue.result(id: "typed")?.status == .succeeded)
            #expect(try await queue.redis.send("TYPE", .string(replyTo)).string == "string")
            #expect(try await queue.stats().processing == 0)
            await queue.shutdown()
        }
    }

    @Test("dlq requeue walks past letters whose kept oversized element is gone, and ends", .timeLimit(.minutes(1)))
    func requeuePastPurgedOversized() async throws {
        try await Harness.withRedis { redis in
            let queue = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: Harness.uniqueQueue()))
            let limit = 64 << 10
            for id in ["big-1", "big-2"] {
                var big = Harness.job(id: id).encoded()
                big.removeLast()
                big.append(
                    contentsOf: ",\"padding\":\"".utf8 + Data(repeating: UInt8(ascii: "x"), count: 2 * limit)
                        + "\"}".utf8
                )
                _ = try await queue.redis.send("LPUSH", .string(queue.keys.pending), .data(big))
            }
            let registration = try await queue.register(worker: "w").registration
            #expect(try await queue.take(registration, limit: 2, maxElementBytes: limit).refused.count == 2)
            // Their kept elements lost (evicted, deleted by hand); one plain letter behind them.
            _ = try await queue.redis.send("DEL", .string(queue.keys.oversized))
            try await queue.enqueue([Harness.job(id: "plain")])
            let plain = try #require(try await Harness.take(from: queue))
            let failure = JobResult(
                id: "plain",
                status: .failed,
                attempts: 1,
                durationMs: 1,
                error: JobError(.attemptsExhausted, "test")
            )
            let letter = try DeadLetter.encode(
                plain,
                error: JobError(.attemptsExhausted, "test"),
                attempts: 1,
                worker: "w"
            )
            _ = try await queue.finish(
                .init(job: plain, result: failure.encoded(), deadLetter: letter, resultTTLSeconds: 60)
            )
            // Two letters per round trip: the first batch is both stale letters.
            #expect(try await queue.requeueDeadLetters(batchSize: 2).requeued == 1)
            #expect(try await queue.stats().dead == 2)
            await queue.shutdown()
        }
    }
}
