import Foundation
import IDCardContract
import IDCardTestSupport
import IDCardWorker
import Testing

@testable import IDCardQueue

/// A worker frozen past the heartbeat timeout (SIGSTOP, a paused VM, a partition) is reaped; when
/// it thaws, nothing it does may strand a job or end one that is someone else's now.
@Suite("A worker reaped while alive")
struct FencingTests {
    @Test("a reaped worker's steps are refused until it registers anew; the registration after it works")
    func fencedSteps() async throws {
        try await Harness.withRedis { redis in
            let queue = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: Harness.uniqueQueue()))
            let frozen = try await queue.register(worker: "frozen").registration
            try await queue.enqueue([Harness.job(id: "held"), Harness.job(id: "next")])
            let job = try #require(try await queue.take(frozen, limit: 1, maxElementBytes: 1 << 20).jobs.first)
            // The worker stops beating; another worker's reaper gives its job back.
            _ = try await queue.redis.send("ZADD", .string(queue.keys.workers), "0", "frozen")
            let reaper = try await queue.register(worker: "reaper").registration
            guard case .reaped(let workers, _) = try await queue.reap(reaper, heartbeatTimeout: 3) else {
                Issue.record("nothing reaped")
                return
            }
            #expect(workers == 1)
            #expect(try await queue.stats().pending == 2)

            // Thawed: every step under the old registration is refused, and moves nothing.
            await #expect(throws: WorkerFencedError(frozen)) {
                try await queue.take(frozen, limit: 2, maxElementBytes: 1 << 20)
            }
            let request = JobQueue.GateRequest(
                job: job,
                imageDigest: "sha256:x",
                claim: .init(rememberedKey: nil),
                claimFor: .seconds(5)
            )
            await #expect(throws: WorkerFencedError(frozen)) { try await queue.gate(request) }
            #expect(try await queue.scheduleRetry(job, id: "held", after: .seconds(1), attemptsMade: 1) == .fenced)
            #expect(try await queue.giveBack(job) == .fenced)
            let success = JobResult(id: "held", status: .succeeded, attempts: 1, durationMs: 1, imageDigest: "sha256:x")
            let ending = try await queue.finish(
                JobQueue.Completion(job: job, result: success.encoded(), imageDigest: "sha256:x", resultTTLSeconds: 60)
            )
            #expect(ending.step == .fenced && ending.next == nil)
            // Only what was paid for is kept: the success. No list moved; the job is pending for its next holder.
            #expect(try await queue.result(id: "held")?.status == .succeeded)
            #expect(try await queue.redis.send("LLEN", .string(queue.keys.processing("frozen"))).int == 0)
            #expect(try await queue.stats().pending == 2)
            #expect(try await !queue.heartbeat(frozen).isRegistered)

            // Registered anew: new epoch, takes work again; the old registration stays refused.
            let again = try await queue.register(worker: "frozen").registration
            #expect(again.epoch > frozen.epoch)
            #expect(try await queue.take(again, limit: 1, maxElementBytes: 1 << 20).jobs.count == 1)
            #expect(try await queue.giveBack(job) == .fenced)
            await queue.shutdown()
        }
    }

    /// The thawed process either goes on (it must register anew and give nothing stranded) or is
    /// killed right after (whatever it took must still be recovered).
    @Test(
        "SIGSTOP past the heartbeat timeout, then SIGCONT: nothing is lost or stranded, every job ends once",
        arguments: [false, true]
    )
    func sigstop(killAfterThaw: Bool) async throws {
        try await Harness.withRedis { redis in
            var fakeConfiguration = ShowAPIFake.Configuration()
            fakeConfiguration.latency = .milliseconds(700)
            let fake = ShowAPIFake(configuration: fakeConfiguration)
            try await fake.serve { url in
                let queueName = Harness.uniqueQueue()
                let producer = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: queueName))
                let jobs = 40
                try await producer.enqueue((0..<jobs).map { Harness.job(id: "stop-\($0)") })
                let environment = ProcessTests.environment(
                    redis: redis,
                    queue: queueName,
                    fakeURL: url,
                    extra: ["IDOCR_WORKER_ID": "frozen"]
                )
                let frozen = try WorkerProcess(environment: environment)
                try await Harness.eventually("the worker holds 4 jobs") { try await producer.stats().processing == 4 }
                frozen.signal(SIGSTOP)
                let pid = frozen.pid
                var configuration = Harness.configuration(redis: redis, queue: queueName, fakeURL: url)
                configuration.concurrency = 2
                try await Harness.withWorker(configuration) { _ in
                    try await Harness.eventually("the frozen worker is reaped", timeout: 15) {
                        try await producer.redis.send("ZSCORE", .string(producer.keys.workers), "frozen").isNull
                    }
                    kill(pid, SIGCONT)
                    if killAfterThaw {
                        try await Task.sleep(for: .milliseconds(150))
                        kill(pid, SIGKILL)
                    }
                    try await Harness.eventually("all \(jobs) results", timeout: 60) {
                        let stats = try await producer.stats()
                        return stats.pending == 0 && stats.processing == 0 && stats.delayed == 0
                    }
                }
                for index in 0..<jobs {
                    #expect(try await producer.result(id: "stop-\(index)")?.status == .succeeded, "stop-\(index)")
                }
                // No processing list anywhere holds a job, registered owner or not.
                let lists =
                    try await producer.redis.send("KEYS", .string(producer.keys.base + "processing:*")).array ?? []
                for list in lists {
                    #expect(try await producer.redis.send("LLEN", .string(list.string ?? "")).int == 0, "\(list)")
                }
                #expect(try await producer.stats().dead == 0)
                // Paid twice at most: what the worker had in flight when it froze, and when it was killed.
                #expect(fake.stats.billed <= jobs + 4 + (killAfterThaw ? 4 : 0))
                if !killAfterThaw {
                    #expect(frozen.log.contains("presumed dead"), "worker log: \(frozen.log.suffix(2000))")
                    frozen.signal(SIGTERM)
                    #expect(await frozen.waitForExit() == 0)
                }
                await producer.shutdown()
            }
        }
    }
}
