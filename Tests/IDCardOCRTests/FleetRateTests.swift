import Foundation
import IDCardContract
import IDCardTestSupport
import Testing

@testable import IDCardQueue

/// The rate limit as a fleet keeps it: several real worker processes sharing one budget in Redis,
/// against a fake API that refuses what exceeds its quota in any sliding second.
///
/// These measure when calls arrive, to the tens of milliseconds: on a machine starved by dozens of
/// other tests at once, calls leave hundreds of milliseconds late and bunch up. `scripts/test`
/// runs this suite on its own, after the others (`swift test --filter FleetRateTests`).
@Suite("The fleet's rate limit, kept by several processes", .serialized)
struct FleetRateTests {
    /// Runs `processes` worker processes on a queue of `jobs` jobs until every job has a result.
    static func fleet(
        processes: Int,
        jobs: Int,
        fake fakeConfiguration: ShowAPIFake.Configuration,
        environment extra: [String: String],
        script: [Int: [FakeImage.Step]] = [:],
        timeout: Double = 60
    ) async throws -> (stats: ShowAPIFake.Stats, elapsed: Duration) {
        try await Harness.withRedis { redis in
            let fake = ShowAPIFake(configuration: fakeConfiguration)
            return try await fake.serve { url in
                let queueName = Harness.uniqueQueue()
                let producer = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: queueName))
                let environment = ProcessTests.environment(redis: redis, queue: queueName, fakeURL: url, extra: extra)
                // Every process up before the first job: three processes starting at once on two
                // cores, beside the fake, delay its reading of the first calls by more than the
                // schedule's margin, and it would see the first second's calls bunched.
                let workers = try (0..<processes).map { _ in try WorkerProcess(environment: environment) }
                try await Harness.eventually("\(processes) workers registered") {
                    try await producer.stats().workers == processes
                }
                let started = ContinuousClock.now
                try await producer.enqueue((0..<jobs).map { Harness.job(id: "f-\($0)", script: script[$0] ?? []) })
                try await Harness.eventually("every job ended", timeout: timeout) {
                    let stats = try await producer.stats()
                    return stats.succeeded + stats.failed == jobs
                }
                let elapsed = ContinuousClock.now - started
                for worker in workers { worker.signal(SIGTERM) }
                for worker in workers { _ = await worker.waitForExit() }
                #expect(try await producer.stats().succeeded == jobs)
                await producer.shutdown()
                return (fake.stats, elapsed)
            }
        }
    }

    @Test(
        """
        three processes share one budget: a strict limiter at exactly the limit refuses nothing, and most of it is \
        used
        """
    )
    func sharedBudget() async throws {
        var fake = ShowAPIFake.Configuration()
        fake.strictQPS = 20
        fake.latency = .milliseconds(50)
        let (stats, elapsed) = try await Self.fleet(
            processes: 3,
            jobs: 100,
            fake: fake,
            environment: ["IDOCR_RATE_LIMIT": "20", "IDOCR_CONCURRENCY": "8"]
        )
        // Three processes each limiting itself to 20/s would send 60/s.
        #expect(stats.rejectedForRate == 0, "\(stats.rejections)")
        #expect(stats.maxPerSecond <= 20)
        #expect(stats.billed == 100)
        #expect(elapsed >= .seconds(4.5))  // 100 calls at 20/s, however many processes
        // In steady state (the middle of the run) at least 90 % of the quota.
        let middle = stats.billedAt.sorted().dropFirst(20).dropLast(20)
        if let first = middle.first, let last = middle.last {
            #expect(
                Double(middle.count - 1) / (last - first) >= 18,
                "\(Double(middle.count - 1) / (last - first)) calls/s"
            )
        }
    }

    @Test(
        """
        three weighted queues in two processes share one budget: the strict limiter refuses nothing, the quota is \
        used, and each queue gets slots by its weight
        """
    )
    func weightedQueues() async throws {
        try await Harness.withRedis { redis in
            var fakeConfiguration = ShowAPIFake.Configuration()
            fakeConfiguration.strictQPS = 20
            fakeConfiguration.latency = .milliseconds(50)
            let fake = ShowAPIFake(configuration: fakeConfiguration)
            try await fake.serve { url in
                let base = Harness.uniqueQueue()
                let weighted = [("\(base)-realtime", 6), ("\(base)-default", 3), ("\(base)-bulk", 1)]
                let producers = weighted.map { JobQueue(redis: redis.configuration, keys: QueueKeys(queue: $0.0)) }
                let environment = ProcessTests.environment(
                    redis: redis,
                    queue: weighted[0].0,
                    fakeURL: url,
                    extra: [
                        "IDOCR_QUEUES": weighted.map { "\($0.0):\($0.1)" }.joined(separator: ","),
                        "IDOCR_RATE_LIMIT": "20", "IDOCR_CONCURRENCY": "3",
                    ]
                )
                let workers = try (0..<2).map { _ in try WorkerProcess(environment: environment) }
                for producer in producers {
                    try await Harness.eventually("2 workers on \(producer.keys.queue)") {
                        try await producer.stats().workers == 2
                    }
                }
                let perQueue = 50
                for (index, producer) in producers.enumerated() {
                    try await producer.enqueue((0..<perQueue).map { Harness.job(id: "w\(index)-\($0)") })
                }
                func succeeded() async throws -> [Int] {
                    var counts: [Int] = []
                    for producer in producers { counts.append(try await producer.stats().succeeded) }
                    return counts
                }
                // While every queue has jobs: the first half of the work (by the weights, realtime
                // would run out at 55 %).
                var early: [Int] = []
                try await Harness.eventually("half of the jobs done", timeout: 30) {
                    early = try await succeeded()
                    return early.reduce(0, +) >= perQueue * 3 / 2
                }
                try await Harness.eventually("every job done", timeout: 60) {
                    try await succeeded() == [perQueue, perQueue, perQueue]
                }
                for worker in workers { worker.signal(SIGTERM) }
                for worker in workers { _ = await worker.waitForExit() }
                let stats = fake.stats
                #expect(stats.rejectedForRate == 0, "\(stats.rejections)")
                #expect(stats.billed == 3 * perQueue)
                // Shares of 6:3:1 would be 45, 22 and 8 of the first 75; the light queue progresses.
                #expect(early[0] > early[1] && early[1] > early[2] && early[2] >= 1, "\(early)")
                // One schedule for the three queues, in a slot of its own.
                #expect(try await producers[0].redis.send("EXISTS", "idocr:{rate:showapi}:rate").int == 1)
                #expect(try await producers[0].redis.send("EXISTS", .string(producers[0].keys.rate)).int == 0)
                let middle = stats.billedAt.sorted().dropFirst(20).dropLast(20)
                if let first = middle.first, let last = middle.last {
                    #expect(
                        Double(middle.count - 1) / (last - first) >= 18,
                        "\(Double(middle.count - 1) / (last - first)) calls/s"
                    )
                }
                print("weighted queues 6:3:1, the first \(perQueue * 3 / 2) jobs: \(early)")
                for producer in producers { await producer.shutdown() }
            }
        }
    }

    @Test("a rate-limit answer to one process holds every process back for the cool-down")
    func fleetCoolDown() async throws {
        var fake = ShowAPIFake.Configuration()
        fake.latency = .milliseconds(50)
        // The 20th job is answered -1009 once; IDOCR_RATE_COOLDOWN is 1.5 s.
        let (stats, _) = try await Self.fleet(
            processes: 3,
            jobs: 150,
            fake: fake,
            environment: ["IDOCR_RATE_LIMIT": "50", "IDOCR_RATE_COOLDOWN": "1.5", "IDOCR_CONCURRENCY": "8"],
            script: [20: [.rateLimited]]
        )
        let refused = try #require(stats.rateLimitedAt.first)
        // The answer reaches its worker a latency later; calls already sent may still arrive just
        // after. From then on, until the cool-down is over, no process sends a call.
        let quiet = stats.billedAt.filter { $0 > refused + 0.05 + 0.1 && $0 < refused + 0.05 + 1.4 }
        #expect(quiet.isEmpty, "\(quiet.count) calls during the fleet's cool-down")
        #expect(stats.billedAt.contains { $0 > refused + 1.55 })  // and then the fleet goes on
    }

    @Test("a limit set 1.5× above the API's real quota settles below it: refusals stop, most of the quota is used")
    func limitAboveQuota() async throws {
        var fake = ShowAPIFake.Configuration()
        fake.strictQPS = 20
        fake.latency = .milliseconds(100)
        let (stats, elapsed) = try await Self.fleet(
            processes: 3,
            jobs: 400,
            fake: fake,
            environment: ["IDOCR_RATE_LIMIT": "30", "IDOCR_CONCURRENCY": "8", "IDOCR_MAX_ATTEMPTS": "10"],
            timeout: 90
        )
        let seconds = elapsed / .seconds(1)
        // Two refusal bursts at most, at the start; none in the run's second half.
        #expect(stats.rejectedForRate <= 20, "\(stats.rejectedForRate) refused: \(stats.rateLimitedAt)")
        #expect(!stats.rateLimitedAt.contains { $0 > seconds / 2 }, "\(stats.rateLimitedAt)")
        #expect(
            Double(stats.billed) / seconds >= 0.75 * 20,
            "\(Double(stats.billed) / seconds) calls/s over \(seconds) s"
        )
    }
}
