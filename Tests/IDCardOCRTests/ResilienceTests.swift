import Foundation
@testable import IDCardQueue
import IDCardTestSupport
import IDCardWorker
import Testing

@Suite("Redis going away")
struct ResilienceTests {
    @Test("Redis killed mid-job and restarted: the worker stays up, reports not ready, and writes every paid recognition")
    func redisAway() async throws {
        let redis = try RedisServer(arguments: ["--appendonly", "yes", "--appendfsync", "always"])
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
                let server = try redis.restart()
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
}
