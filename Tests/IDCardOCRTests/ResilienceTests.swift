import Foundation
import IDCardContract
import IDCardTestSupport
import IDCardWorker
import Testing

@testable import IDCardQueue

@Suite("Redis going away")
struct ResilienceTests {
    @Test(
        "Redis killed mid-job and restarted: the worker stays up, reports not ready, and writes every paid recognition"
    )
    func redisAway() async throws {
        let redis = try await RedisServer(arguments: ["--appendonly", "yes", "--appendfsync", "always"])
        var fakeConfiguration = ShowAPIFake.Configuration()
        fakeConfiguration.latency = .milliseconds(1500)
        let fake = ShowAPIFake(configuration: fakeConfiguration)
        let restarted = try await fake.serve { url in
            let configuration = Harness.configuration(redis: redis, queue: Harness.uniqueQueue(), fakeURL: url)
            let producer = try Harness.openQueue(configuration)
            try await producer.enqueue((0..<8).map { Harness.job(id: "away-\($0)") })
            let server = try await Harness.withWorker(configuration) { worker in
                try await Harness.eventually("8 jobs in flight") { try await producer.stats().processing == 8 }
                await redis.kill()
                try await Harness.eventually("the worker reports not ready", timeout: 10) { !worker.health.isReady }
                try await Task.sleep(for: .seconds(2))  // the API answers while Redis is away
                let server = try await redis.restart()
                try await Harness.eventually("every result written", timeout: 30) {
                    var written = 0
                    for index in 0..<8 where try await producer.resultData(id: "away-\(index)") != nil { written += 1 }
                    return written == 8
                }
                try await Harness.eventually("ready again", timeout: 10) { worker.health.isReady }
                return server
            }
            var stats = try? await producer.stats()
            if stats == nil { stats = try await producer.stats() }  // the first call may meet a stale pooled connection
            let finalStats = try #require(stats)
            #expect(finalStats.processing == 0 && finalStats.pending == 0 && finalStats.dead == 0)
            #expect(fake.stats.billed == 8)
            await producer.shutdown()
            return server
        }
        await restarted.stop()
        await redis.stop()
    }

    @Test("a take whose reply was lost with the connection: the job is given back, not stranded with a live worker")
    func lostTake() async throws {
        var fakeConfiguration = ShowAPIFake.Configuration()
        fakeConfiguration.latency = .seconds(3)
        try await Harness.scenario(fake: fakeConfiguration) { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            try await producer.enqueue((0..<3).map { Harness.job(id: "held-\($0)") })
            try await Harness.withWorker(configuration) { worker in
                try await Harness.eventually("3 jobs in flight") { try await producer.stats().processing == 3 }
                // As if a take had run in Redis and its reply had been lost: a job in this live
                // worker's processing list that no slot runs.
                let stranded = Harness.job(id: "stranded").encoded()
                _ = try await producer.redis.send(
                    "LPUSH",
                    .string(producer.keys.processing(worker.configuration.workerID)),
                    .data(stranded)
                )
                // Every client's connection drops, the worker's with them.
                _ = try await producer.redis.send("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no")
                try await Harness.eventually("the stranded job's result", timeout: 30) {
                    try await producer.resultData(id: "stranded") != nil
                }
                for index in 0..<3 { #expect(try await producer.resultData(id: "held-\(index)") != nil) }
            }
            // The jobs running during the recovery were not given back: nothing was paid twice.
            #expect(fake.stats.billed == 4)
            #expect(fake.stats.duplicateBilled == 0)
            let stats = try await producer.stats()
            #expect(stats.processing == 0 && stats.pending == 0 && stats.dead == 0)
        }
    }
}
