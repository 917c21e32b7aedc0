import Foundation
import IDCardContract
import IDCardTestSupport
import IDCardWorker
import Testing

@testable import IDCardQueue

/// Redis up but refusing writes: `maxmemory` reached (OOM), persistence failing with
/// `stop-writes-on-bgsave-error` (MISCONF), a master demoted to a replica (READONLY).
@Suite("Redis refusing writes")
struct WriteRefusalTests {
    /// How each refusal is made on a real redis-server, and undone.
    enum Refusal: String, CaseIterable, Sendable {
        case oom = "OOM"
        case misconf = "MISCONF"
        case readonly = "READONLY"

        var serverArguments: [String] { self == .misconf ? ["--save", "3600 1"] : [] }

        func begin(_ redis: RedisServer, _ queue: JobQueue) async throws {
            switch self {
            case .oom:
                _ = try await queue.redis.send("CONFIG", "SET", "maxmemory", "1")
            case .misconf:
                // A snapshot that cannot be written: its directory is gone.
                try FileManager.default.removeItem(at: redis.directory)
                _ = try await queue.redis.send("BGSAVE")
                try await Harness.eventually("the snapshot fails") {
                    try await queue.redis.send("INFO", "persistence").string?.contains("rdb_last_bgsave_status:err")
                        == true
                }
            case .readonly:
                // A replica of a master that does not answer keeps its data and refuses writes.
                _ = try await queue.redis.send("REPLICAOF", "127.0.0.1", .int(try FreePort.pick()))
            }
        }

        func end(_ redis: RedisServer, _ queue: JobQueue) async throws {
            switch self {
            case .oom:
                _ = try await queue.redis.send("CONFIG", "SET", "maxmemory", "0")
            case .misconf:
                try FileManager.default.createDirectory(at: redis.directory, withIntermediateDirectories: true)
                _ = try await queue.redis.send("CONFIG", "SET", "stop-writes-on-bgsave-error", "no")
            case .readonly:
                _ = try await queue.redis.send("REPLICAOF", "NO", "ONE")
            }
        }
    }

    @Test(
        """
        mid-job: the paid answers wait in memory, nothing new is paid for, the worker is not ready and says why; then \
        every result is written once
        """,
        arguments: Refusal.allCases
    )
    func refusedMidJob(refusal: Refusal) async throws {
        try await Harness.withRedis(arguments: refusal.serverArguments) { redis in
            var fakeConfiguration = ShowAPIFake.Configuration()
            // Long enough that the refusal begins before any answer, on a loaded machine too.
            fakeConfiguration.latency = .seconds(3)
            let fake = ShowAPIFake(configuration: fakeConfiguration)
            try await fake.serve { url in
                var configuration = Harness.configuration(redis: redis, queue: Harness.uniqueQueue(), fakeURL: url)
                configuration.concurrency = 6
                let producer = try Harness.openQueue(configuration)
                let jobs = 8
                try await producer.enqueue((0..<jobs).map { Harness.job(id: "refused-\($0)") })
                try await Harness.withWorker(configuration) { worker in
                    // Six calls sent to the API (past the gate, whose claims are writes too), two jobs waiting.
                    try await Harness.eventually("six calls in flight") { fake.stats.calls == 6 }
                    try await refusal.begin(redis, producer)
                    try await Harness.eventually("not ready, saying why", timeout: 10) {
                        worker.health.notReadyReason?.contains(refusal.rawValue) == true
                    }
                    // Every call answered (billed at arrival, answered 3 s later) while writes are refused.
                    try await Harness.eventually("six calls answered") { fake.stats.answered == 6 }
                    try await Task.sleep(for: .seconds(1))
                    // Under OOM a script whose first write frees memory (the call's claim dropped)
                    // goes on, so a finish can get through; MISCONF and READONLY refuse every write.
                    if refusal != .oom {
                        for index in 0..<jobs { #expect(try await producer.resultData(id: "refused-\(index)") == nil) }
                    }
                    #expect(fake.stats.calls == 6, "a call was paid for while Redis refused writes")
                    #expect(!worker.health.isReady)
                    try await refusal.end(redis, producer)
                    try await Harness.eventually("every result written", timeout: 20) {
                        var written = 0
                        for index in 0..<jobs where try await producer.resultData(id: "refused-\(index)") != nil {
                            written += 1
                        }
                        return written == jobs
                    }
                    try await Harness.eventually("ready again") { worker.health.isReady }
                }
                let stats = try await producer.stats()
                #expect(stats.processing == 0 && stats.pending == 0 && stats.dead == 0 && stats.succeeded == jobs)
                #expect(fake.stats.billed == jobs)
                await producer.shutdown()
            }
        }
    }
}
