import Foundation
import IDCardContract
import IDCardTestSupport
import IDCardWorker
import Testing

@testable import IDCardQueue

/// Real `idcard-ocr worker` processes, killed and stopped with real signals.
@Suite("Worker processes under kill -9 and SIGTERM")
struct ProcessTests {
    static func environment(
        redis: RedisServer,
        queue: String,
        fakeURL: String,
        extra: [String: String] = [:]
    ) -> [String: String] {
        [
            "IDOCR_REDIS_URL": redis.url, "IDOCR_QUEUE": queue, "IDOCR_PROVIDER": "showapi", "SHOWAPI_URL": fakeURL,
            "SHOWAPI_APP_KEY": Harness.appKey, "IDOCR_METRICS_PORT": "0", "IDOCR_HEARTBEAT_TIMEOUT": "3",
            "IDOCR_RETRY_BASE": "0.05", "IDOCR_RETRY_CAP": "0.2", "IDOCR_CONCURRENCY": "4",
        ].merging(extra) { $1 }
    }

    /// The next worker is either another process (the reaper gives the dead one's jobs back) or the
    /// same container restarted in its pod under its `IDOCR_WORKER_ID`: that one heartbeats for
    /// the dead one's list at once, so the reaper never sees a dead worker there and the new
    /// process must give the jobs back itself.
    @Test(
        "kill -9 of a busy worker: the jobs it held complete on the next worker, nothing lost",
        arguments: [
            (jobs: 12, workerID: nil), (jobs: 4, workerID: "pod-a"),
        ] as [(jobs: Int, workerID: String?)]
    )
    func killNine(jobs: Int, workerID: String?) async throws {
        try await Harness.withRedis { redis in
            var fakeConfiguration = ShowAPIFake.Configuration()
            fakeConfiguration.latency = .milliseconds(1500)
            let fake = ShowAPIFake(configuration: fakeConfiguration)
            try await fake.serve { url in
                let queueName = Harness.uniqueQueue()
                let producer = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: queueName))
                try await producer.enqueue((0..<jobs).map { Harness.job(id: "k9-\($0)") })
                let environment = Self.environment(
                    redis: redis,
                    queue: queueName,
                    fakeURL: url,
                    extra: workerID.map { ["IDOCR_WORKER_ID": $0] } ?? [:]
                )

                let victim = try WorkerProcess(environment: environment)
                try await Harness.eventually("the victim holds 4 jobs") { try await producer.stats().processing == 4 }
                victim.signal(SIGKILL)
                _ = await victim.waitForExit()
                #expect(try await producer.stats().processing == 4)  // still recorded as held by the dead process

                let next = try WorkerProcess(environment: environment)
                try await Harness.eventually("all \(jobs) results", timeout: 40) {
                    let stats = try await producer.stats()
                    return stats.pending == 0 && stats.processing == 0 && stats.delayed == 0
                }
                for index in 0..<jobs {
                    #expect(try await producer.result(id: "k9-\(index)")?.status == .succeeded, "k9-\(index)")
                }
                #expect(try await producer.stats().dead == 0)
                // Calls paid twice are bounded by what the victim had in flight.
                #expect(fake.stats.billed <= jobs + 4)
                next.signal(SIGTERM)
                #expect(await next.waitForExit() == 0)
                await producer.shutdown()
            }
        }
    }

    /// A long grace lets the 4 jobs in flight finish; a short one gives them back. Either way the
    /// process exits 0, holds nothing, and no attempt is spent on a job it gave back.
    @Test(
        "SIGTERM: in-flight jobs finish within the grace or go back to pending; nothing lost; exit 0",
        arguments: [
            (apiLatency: Duration.seconds(2), grace: "10", finished: 4),
            (apiLatency: Duration.seconds(6), grace: "0.5", finished: 0),
        ]
    )
    func sigterm(apiLatency: Duration, grace: String, finished: Int) async throws {
        try await Harness.withRedis { redis in
            var fakeConfiguration = ShowAPIFake.Configuration()
            fakeConfiguration.latency = apiLatency
            let fake = ShowAPIFake(configuration: fakeConfiguration)
            try await fake.serve { url in
                let queueName = Harness.uniqueQueue()
                let producer = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: queueName))
                try await producer.enqueue((0..<10).map { Harness.job(id: "t-\($0)") })
                let worker = try WorkerProcess(
                    environment: Self.environment(
                        redis: redis,
                        queue: queueName,
                        fakeURL: url,
                        extra: ["IDOCR_SHUTDOWN_GRACE": grace]
                    )
                )
                try await Harness.eventually("4 jobs in flight") { try await producer.stats().processing == 4 }
                worker.signal(SIGTERM)
                let status = await worker.waitForExit(timeout: 15)
                #expect(status == 0, "worker log: \(worker.log.suffix(2000))")
                let stats = try await producer.stats()
                #expect(stats.processing == 0 && stats.dead == 0 && stats.workers == 0, "\(stats)")
                #expect(stats.pending == 10 - finished)
                var succeeded = 0
                for index in 0..<10 where try await producer.result(id: "t-\(index)")?.status == .succeeded {
                    succeeded += 1
                }
                #expect(succeeded == finished)
                #expect(try await producer.redis.send("HLEN", .string(producer.keys.attempts)).int == 0)
                await producer.shutdown()
            }
        }
    }

    @Test("a job that was with a dying worker three times is dead-lettered as worker_lost")
    func workerLost() async throws {
        try await Harness.withRedis { redis in
            try await ShowAPIFake().serve { url in
                let configuration = Harness.configuration(redis: redis, queue: Harness.uniqueQueue(), fakeURL: url)
                let queue = try Harness.openQueue(configuration)
                let element = Harness.job(id: "crasher").encoded()
                let reaper = try await queue.register(worker: "reaper").registration
                // Two deaths, recovered by a reaper: back to pending each time.
                for round in 1...2 {
                    _ = try await queue.redis.send("ZADD", .string(queue.keys.workers), "0", "ghost")
                    _ = try await queue.redis.send("LPUSH", .string(queue.keys.processing("ghost")), .data(element))
                    guard case .reaped(let reaped, let setAside) = try await queue.reap(reaper) else {
                        Issue.record("the reaper did not reap")
                        return
                    }
                    #expect(reaped == 1 && setAside.isEmpty, "round \(round)")
                    #expect(try await queue.redis.send("RPOP", .string(queue.keys.pending)).data == element)
                }
                // The third death: a live worker's reaper sets it aside as worker_lost.
                _ = try await queue.redis.send("ZADD", .string(queue.keys.workers), "0", "ghost")
                _ = try await queue.redis.send("LPUSH", .string(queue.keys.processing("ghost")), .data(element))
                try await Harness.withWorker(configuration) { _ in
                    let result = try await Harness.waitForResult(queue, id: "crasher")
                    #expect(result.status == .failed && result.error?.code == .workerLost)
                }
                let letter = try #require(try await queue.deadLetters().first?.letter)
                #expect(letter.error.code == .workerLost && letter.id == "crasher")
                #expect(try await queue.stats().processing == 0)
                await queue.shutdown()
            }
        }
    }

    /// An orchestrator learns of a failure from the exit status: a worker that cannot serve its
    /// metrics port (taken here by a redis-server) must not exit 0 as if it had been stopped.
    @Test("a worker that fails (its metrics port taken) exits non-zero, holding no job")
    func failureExitsNonZero() async throws {
        try await Harness.withRedis { redis in
            try await Harness.withRedis { squatter in
                try await ShowAPIFake().serve { url in
                    let queueName = Harness.uniqueQueue()
                    let producer = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: queueName))
                    try await producer.enqueue((0..<3).map { Harness.job(id: "port-\($0)") })
                    var environment = Self.environment(redis: redis, queue: queueName, fakeURL: url)
                    environment["IDOCR_METRICS_PORT"] = "\(squatter.port)"
                    let worker = try WorkerProcess(environment: environment)
                    let status = await worker.waitForExit(timeout: 30)
                    #expect(
                        status != nil && status != 0,
                        "exit status \(status.map(String.init) ?? "none: killed after 30 s")"
                    )
                    let stats = try await producer.stats()
                    #expect(stats.processing == 0 && stats.pending + stats.succeeded == 3 && stats.dead == 0)
                    await producer.shutdown()
                }
            }
        }
    }
}
