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
            try await queue.enqueue([Harness.job(id: "twice", replyTo: "replies-twice")])
            let job = try #require(try await queue.take(worker: "w", limit: 1).first)
            let completion = JobQueue.Completion(
                job: job, worker: "w", result: Data(#"{"id":"twice","status":"failed"}"#.utf8),
                deadLetter: try DeadLetter.encode(job, error: JobError(.attemptsExhausted, "test"), attempts: 5, worker: "w"), resultTTLSeconds: 60
            )
            #expect(try await queue.finish(completion).wasStillOurs)
            #expect(try await !queue.finish(completion).wasStillOurs)
            let letters = try await queue.deadLetters()
            #expect(letters.count == 1)
            #expect(letters.first?.letter?.job == JSONValue.parse(job.element))  // the element, spliced in by the script
            #expect(try await queue.redis.send("LLEN", "replies-twice").int == 1)
            #expect(try await queue.redis.send("HGET", .string(queue.keys.finished), "failed").data == Data("1".utf8))
            await queue.shutdown()
        }
    }

    @Test("a retry scheduled twice: the job waits in `delayed` once")
    func retryTwice() async throws {
        try await Harness.withRedis { redis in
            let queue = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: Harness.uniqueQueue()))
            try await queue.enqueue([Harness.job(id: "again")])
            let job = try #require(try await queue.take(worker: "w", limit: 1).first)
            for _ in 0..<2 {
                try await queue.scheduleRetry(job, id: "again", worker: "w", after: .seconds(60), attemptsMade: 1)
            }
            let stats = try await queue.stats()
            #expect(stats.delayed == 1 && stats.processing == 0)
            await queue.shutdown()
        }
    }

    /// A gate's slot as an instant, bracketed by when the call began and ended (Redis reads its
    /// clock in between): comparisons hold however slowly a loaded machine runs the test.
    struct Slot {
        let earliest: ContinuousClock.Instant
        let latest: ContinuousClock.Instant
        let pushed: Duration
    }

    static func slot(_ queue: JobQueue, jobID: String = "j", pushedTo: Duration = .zero) async throws -> Slot {
        let began = ContinuousClock.now
        let (decision, _) = try await queue.gate(jobID: jobID, imageKey: nil, rateInterval: .milliseconds(1), pushedTo: pushedTo)
        let ended = ContinuousClock.now
        guard case .proceed(let wait, let pushed) = decision else { throw RedisError.unexpectedReply("gate: \(decision)") }
        return Slot(earliest: began + wait, latest: ended + wait, pushed: pushed)
    }

    @Test("late calls push the fleet's schedule back by what the running total lacks, at most a second at once")
    func gatePushBack() async throws {
        try await Harness.withRedis { redis in
            let queue = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: Harness.uniqueQueue()))
            let first = try await Self.slot(queue)
            #expect(first.pushed == .zero)
            let pushed = try await Self.slot(queue, pushedTo: .milliseconds(800))
            #expect(pushed.latest - first.earliest >= .milliseconds(800) && pushed.earliest - first.latest <= .milliseconds(802))
            #expect(pushed.pushed == .milliseconds(800))
            // Already covered by that push: the next slot only.
            let covered = try await Self.slot(queue, pushedTo: .milliseconds(500))
            #expect(covered.earliest - pushed.latest <= .milliseconds(2) && covered.pushed == .milliseconds(800))
            // Ten seconds more asked, one given.
            let capped = try await Self.slot(queue, pushedTo: .milliseconds(10_800))
            #expect(capped.latest - covered.earliest >= .milliseconds(1_000) && capped.earliest - covered.latest <= .milliseconds(1_002))
            #expect(capped.pushed == .milliseconds(1_800))
            await queue.shutdown()
        }
    }

    @Test("a gate that finds the job already done still passes its worker's push-back on")
    func gatePushBackOnDuplicate() async throws {
        try await Harness.withRedis { redis in
            let queue = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: Harness.uniqueQueue()))
            _ = try await queue.redis.send("SET", .string(queue.keys.result("done")), #"{"id":"done","status":"succeeded"}"#)
            let began = ContinuousClock.now
            let (duplicate, _) = try await queue.gate(jobID: "done", imageKey: nil, rateInterval: .milliseconds(1), pushedTo: .milliseconds(800))
            let ended = ContinuousClock.now
            guard case .alreadySucceeded = duplicate else { throw RedisError.unexpectedReply("gate: \(duplicate)") }
            let next = try await Self.slot(queue, jobID: "new")
            #expect(next.latest - began >= .milliseconds(800) && next.earliest - ended <= .milliseconds(802))
            #expect(next.pushed == .milliseconds(800))
            await queue.shutdown()
        }
    }
}
