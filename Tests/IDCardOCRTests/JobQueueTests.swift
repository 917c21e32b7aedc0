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

    /// A gate's slot as an instant, bracketed by when the call began and ended (Redis reads its
    /// clock in between): comparisons hold however slowly a loaded machine runs the test.
    struct Slot {
        let earliest: ContinuousClock.Instant
        let latest: ContinuousClock.Instant
        let pushed: Duration
    }

    static func slot(_ queue: JobQueue, jobID: String = "j", pushedTo: Duration = .zero) async throws -> Slot {
        let began = ContinuousClock.now
        let (decision, _) = try await queue.gate(try await gateRequest(queue, jobID: jobID, pushedTo: pushedTo))
        let ended = ContinuousClock.now
        guard case .proceed(let wait, let pushed) = decision else { throw RedisError.unexpectedReply("gate: \(decision)") }
        return Slot(earliest: began + wait, latest: ended + wait, pushed: pushed)
    }

    /// A gate request for a job of `jobID` taken by a registered worker, its own claim each time.
    static func gateRequest(_ queue: JobQueue, jobID: String, pushedTo: Duration) async throws -> JobQueue.GateRequest {
        // Each its own id: a call claims its id, and the next gate for it would wait.
        try await queue.enqueue(Harness.job(id: jobID == "j" ? "j-\(UInt32.random(in: .min ... .max))" : jobID))
        let job = try #require(try await Harness.take(from: queue))
        return JobQueue.GateRequest(
            job: job, imageDigest: "sha256:test", claim: JobQueue.CallClaim(rememberedKey: nil), callDeadline: .seconds(5),
            rateInterval: .milliseconds(1), pushedTo: pushedTo
        )
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
            let request = try await Self.gateRequest(queue, jobID: "done", pushedTo: .milliseconds(800))
            let (duplicate, _) = try await queue.gate(request)
            let ended = ContinuousClock.now
            guard case .alreadySucceeded = duplicate else { throw RedisError.unexpectedReply("gate: \(duplicate)") }
            let next = try await Self.slot(queue, jobID: "new")
            #expect(next.latest - began >= .milliseconds(800) && next.earliest - ended <= .milliseconds(802))
            #expect(next.pushed == .milliseconds(800))
            await queue.shutdown()
        }
    }
}
