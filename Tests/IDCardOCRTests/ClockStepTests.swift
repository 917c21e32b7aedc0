import Foundation
import IDCardContract
import IDCardTestSupport
import IDCardWorker
import Testing

@testable import IDCardQueue

/// Redis's wall clock stepping (an NTP correction, a VM restored from a snapshot, a failover to a
/// host whose clock is off) while workers run: heartbeats, retries and rate slots all use it.
@Suite("Redis's clock steps")
struct ClockStepTests {
    static func withSteppingRedis<T>(_ body: (RedisServer, ClockShift) async throws -> T) async throws -> T {
        let clock = try ClockShift()
        let redis = try await RedisServer(environment: try await clock.environment())
        let outcome = await Result { try await body(redis, clock) }
        await redis.stop()
        return try outcome.get()
    }

    /// Two workers (concurrency 4) busy with `jobs` jobs against a fake answering in 400 ms on a
    /// Redis whose clock can step; `body` gets the producer, the first worker's configuration and
    /// the epochs hash as it was with both busy. Every job must be billed exactly once.
    static func withTwoBusyWorkers(
        jobs: Int,
        prefix: String,
        _ body: @Sendable (ClockShift, JobQueue, WorkerConfiguration, RedisValue) async throws -> Void
    ) async throws {
        try await withSteppingRedis { redis, clock in
            var fakeConfiguration = ShowAPIFake.Configuration()
            fakeConfiguration.latency = .milliseconds(400)
            let fake = ShowAPIFake(configuration: fakeConfiguration)
            try await fake.serve { url in
                var first = Harness.configuration(redis: redis, queue: Harness.uniqueQueue(), fakeURL: url)
                first.concurrency = 4
                var second = first
                second.workerID = first.workerID + "-b"
                let (a, b) = (first, second)
                let producer = try Harness.openQueue(first)
                try await producer.enqueue((0..<jobs).map { Harness.job(id: "\(prefix)-\($0)") })
                try await Harness.withWorker(a) { _ in
                    try await Harness.withWorker(b) { _ in
                        try await Harness.eventually("both workers busy") { try await producer.stats().processing >= 6 }
                        let epochs = try await producer.redis.send("HGETALL", .string(producer.keys.epochs))
                        try await body(clock, producer, a, epochs)
                    }
                }
                #expect(fake.stats.billed == jobs && fake.stats.duplicateBilled == 0)
                await producer.shutdown()
            }
        }
    }

    @Test("a step forward past the heartbeat timeout makes no worker reap another: nothing is paid twice")
    func forward() async throws {
        try await Self.withTwoBusyWorkers(jobs: 60, prefix: "fwd") { clock, producer, _, epochs in
            try clock.shift(by: .seconds(60))
            try await Harness.eventually("every job done", timeout: 40) { try await producer.stats().succeeded == 60 }
            // Neither was reaped: both still hold the registrations they started with.
            #expect(try await producer.redis.send("HGETALL", .string(producer.keys.epochs)) == epochs)
        }
    }

    /// A process that first reads Redis's clock after a step forward sees no step: every other
    /// worker's heartbeat, beaten by the clock from before, looks a step old to it. The chaos run
    /// caught a worker started (and another reading the new clock in its heartbeat just before
    /// its reaper ran) reaping the whole fleet at a +90 s step. Three times: a newcomer within a
    /// heartbeat interval of each step.
    @Test("a worker that starts just after a step forward reaps no one")
    func newcomerAfterForwardStep() async throws {
        try await Self.withTwoBusyWorkers(jobs: 90, prefix: "new") { clock, producer, a, epochs in
            for round in 0..<3 {
                try clock.shift(by: .seconds(60))
                var newcomer = a
                newcomer.workerID = a.workerID + "-new\(round)"
                try await Harness.withWorker(newcomer) { _ in try await Task.sleep(for: .seconds(2)) }
            }
            // Neither was reaped: both still hold the registrations they started with.
            let now = try await producer.redis.send("HGETALL", .string(producer.keys.epochs))
            for worker in [a.workerID, a.workerID + "-b"] {
                #expect(Self.epoch(of: worker, in: now) == Self.epoch(of: worker, in: epochs), "\(worker) was reaped")
            }
            try await Harness.eventually("every job done", timeout: 60) { try await producer.stats().succeeded == 90 }
        }
    }

    /// A worker's epoch in an `HGETALL` reply of the epochs hash.
    static func epoch(of worker: String, in reply: RedisValue) -> String? {
        guard let fields = reply.array?.compactMap(\.string) else { return nil }
        return stride(from: 0, to: fields.count - 1, by: 2).first { fields[$0] == worker }.map { fields[$0 + 1] }
    }

    /// 10 minutes is more than any retry waits, and is seen as such; 30 s is not, and is caught
    /// by the heartbeats' readings of Redis's clock.
    @Test(
        "a step back stalls neither retries nor rate slots for its length",
        arguments: [Duration.seconds(-600), .seconds(-30)]
    )
    func backward(step: Duration) async throws {
        try await Self.withSteppingRedis { redis, clock in
            try await ShowAPIFake().serve { url in
                var configuration = Harness.configuration(redis: redis, queue: Harness.uniqueQueue(), fakeURL: url)
                configuration.rateLimit = 20
                // Full jitter: the retry waits a random time up to 3 s. A wait under the 50 ms the
                // test polls at (under 2 % of runs) ends before the step is seen; 0.5 s made it 10 %.
                configuration.retryBase = 3
                configuration.retryCap = 3
                let producer = try Harness.openQueue(configuration)
                try await Harness.withWorker(configuration) { _ in
                    // Rate slots booked and a retry scheduled by the clock from before the step.
                    try await producer.enqueue((0..<10).map { Harness.job(id: "before-\($0)") })
                    try await producer.enqueue(Harness.job(id: "retried", script: [.serverError]))
                    try await Harness.eventually("the retry waits in delayed (or, rarely, is already done)") {
                        let retried = try await producer.result(id: "retried")
                        return try await producer.stats().delayed == 1 || retried != nil
                    }
                    try clock.shift(by: step)
                    try await producer.enqueue((0..<10).map { Harness.job(id: "after-\($0)") })
                    let stepped = ContinuousClock.now
                    try await Harness.eventually("every job done", timeout: 45) {
                        try await producer.stats().succeeded == 21
                    }
                    #expect(ContinuousClock.now - stepped < .seconds(15))
                }
                #expect(try await producer.result(id: "retried")?.attempts == 2)
                await producer.shutdown()
            }
        }
    }

    @Test("a call's claim set before a step back holds no one up for the step's length; one set after still does")
    func claimAcrossAStepBack() async throws {
        try await Self.withSteppingRedis { redis, clock in
            let queue = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: Harness.uniqueQueue()))
            let job = Harness.job(id: "claimed")
            try await queue.enqueue([job, job])
            let first = try #require(try await Harness.take(from: queue, worker: "first"))
            let second = try #require(try await Harness.take(from: queue, worker: "second"))
            func gate(_ received: ReceivedJob) async throws -> JobQueue.GateDecision {
                try await queue.gate(
                    .init(
                        job: received,
                        imageDigest: "sha256:x",
                        claim: .init(rememberedKey: nil),
                        claimFor: .seconds(30)
                    )
                ).0
            }
            #expect(try await gate(first) == .proceed)
            guard case .busy = try await gate(second) else {
                throw TestSupportError("the first call's claim did not hold")
            }
            // Redis's clock steps back 90 s: the claim's expiry is now two minutes away, but its call
            // was set by the clock from before; it no longer holds.
            try clock.shift(by: .seconds(-90))
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await gate(second) == .proceed)
            // A claim made after the step holds as claims do.
            guard case .busy = try await gate(first) else {
                throw TestSupportError("a claim made after the step did not hold")
            }
            await queue.shutdown()
        }
    }
}
