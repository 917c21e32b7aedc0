import Foundation
import IDCardContract
import IDCardTestSupport
import IDCardWorker
import Testing

@testable import IDCardQueue

/// Redis behind Sentinel, as managed offerings and self-run HA setups have it: one master, two
/// replicas, three `redis-sentinel` processes; failovers planned and by `kill -9`.
@Suite("Redis Sentinel")
struct SentinelTests {
    @Test("redis+sentinel:// URLs: hosts, master name, database, the master's credentials apart from the Sentinels'")
    func urls() throws {
        let url = "redis+sentinel://worker:s%40cret@10.0.0.1:26379,10.0.0.2,[fd00::3]:26380/mymaster/2"
        let configuration = try RedisConfiguration(url: url, sentinelPassword: "sentinel-secret")
        let sentinel = try #require(configuration.sentinel)
        #expect(
            sentinel.nodes == [
                .init(host: "10.0.0.1", port: 26379), .init(host: "10.0.0.2", port: 26379),
                .init(host: "fd00::3", port: 26380),
            ]
        )
        #expect(sentinel.masterName == "mymaster" && sentinel.password == "sentinel-secret")
        #expect(configuration.username == "worker" && configuration.password == "s@cret" && configuration.database == 2)
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "redis+sentinel://10.0.0.1:26379") }
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "redis+sentinel:///mymaster/0") }
    }

    @Test("the Sentinels' announcements: the replica being promoted, the new master named, other masters' ignored")
    func announcements() {
        let replica = "slave 127.0.0.1:6381 127.0.0.1 6381 @ mymaster 127.0.0.1 6380"
        #expect(
            SentinelWatch.move(channel: "+failover-state-send-slaveof-noone", text: replica, master: "mymaster")
                == .promoting(host: "127.0.0.1", port: 6381)
        )
        #expect(SentinelWatch.move(channel: "+promoted-slave", text: replica, master: "mymaster") == .switched)
        #expect(
            SentinelWatch.move(
                channel: "+switch-master",
                text: "mymaster 127.0.0.1 6380 127.0.0.1 6381",
                master: "mymaster"
            ) == .switched
        )
        #expect(
            SentinelWatch.move(channel: "+failover-state-send-slaveof-noone", text: replica, master: "other") == nil
        )
        #expect(
            SentinelWatch.move(
                channel: "+switch-master",
                text: "other 127.0.0.1 6380 127.0.0.1 6381",
                master: "mymaster"
            ) == nil
        )
        #expect(
            SentinelWatch.move(channel: "+failover-state-send-slaveof-noone", text: "garbled", master: "mymaster")
                == nil
        )
    }

    @Test(
        "rediss+sentinel://: Sentinels and servers that take only TLS; a worker finds the master and follows a failover"
    )
    func overTLS() async throws {
        let certificates = try await TestCertificates(names: ["DNS:localhost", "IP:127.0.0.1"])
        defer { certificates.remove() }
        let cluster = try await SentinelCluster(tls: RedisServer.TLS(certificates: certificates))
        let outcome = await Result {
            let fake = ShowAPIFake()
            try await fake.serve { url in
                var configuration = Harness.configuration(
                    redis: cluster.servers[0],
                    queue: Harness.uniqueQueue(),
                    fakeURL: url
                )
                configuration.redisURL = cluster.url
                #expect(configuration.redisURL.hasPrefix("rediss+sentinel://"))
                configuration.redisTLS.caFile = certificates.caFile
                let producer = try Harness.openQueue(configuration)
                try await producer.enqueue((0..<20).map { Harness.job(id: "stls-\($0)") })
                try await Harness.withWorker(configuration) { _ in
                    try await Harness.eventually("20 results") { try await producer.stats().succeeded == 20 }
                    let first = try await cluster.masterPort()
                    #expect(try await cluster.failover() != first)
                    try await producer.enqueue((20..<40).map { Harness.job(id: "stls-\($0)") })
                    try await Harness.eventually("40 results on the new master", timeout: 30) {
                        try await producer.stats().succeeded == 40
                    }
                }
                #expect(fake.stats.billed == 40)
                await producer.shutdown()
            }
        }
        await cluster.stop()
        try outcome.get()
    }

    enum Failover: String, CaseIterable, Sendable {
        case planned = "SENTINEL FAILOVER"
        case killed = "kill -9 of the master"
    }

    @Test(
        """
        a worker finds the master through the Sentinels and follows a failover: nothing lost, paid twice at most what \
        was in flight
        """,
        arguments: Failover.allCases
    )
    func failover(_ failover: Failover) async throws {
        let cluster = try await SentinelCluster()
        let outcome = await Result {
            var fakeConfiguration = ShowAPIFake.Configuration()
            fakeConfiguration.latency = .milliseconds(200)
            let fake = ShowAPIFake(configuration: fakeConfiguration)
            try await fake.serve { url in
                var configuration = Harness.configuration(
                    redis: cluster.servers[0],
                    queue: Harness.uniqueQueue(),
                    fakeURL: url
                )
                configuration.redisURL = cluster.url
                let producer = try Harness.openQueue(configuration)
                let jobs = 150
                try await producer.enqueue((0..<jobs).map { Harness.job(id: "ha-\($0)") })
                let first = try await cluster.masterPort()
                try await Harness.withWorker(configuration) { worker in
                    try await Harness.eventually("a third of the jobs done", timeout: 30) {
                        try await producer.stats().succeeded >= jobs / 3
                    }
                    let second = failover == .planned ? try await cluster.failover() : try await cluster.killMaster()
                    #expect(second != first)
                    do {
                        try await Harness.eventually("every job done on the new master", timeout: 60) {
                            let stats = try await producer.stats()
                            return stats.pending == 0 && stats.processing == 0 && stats.delayed == 0
                        }
                    } catch {
                        let stats = try await producer.stats()
                        let keys = try await producer.redis.send("KEYS", .string(producer.keys.base + "*")).array?
                            .compactMap(\.string).filter {
                                !$0.contains("result:") && !$0.contains("image") && !$0.contains("claim")
                            }
                        Issue.record(
                            Comment(
                                rawValue: "\(stats) \(keys ?? []) health=\(worker.health.notReadyReason ?? "ready")"
                            )
                        )
                        throw error
                    }
                    try await Harness.eventually("ready") { worker.health.isReady }
                }
                var missing: [Int] = []
                for index in 0..<jobs where try await producer.result(id: "ha-\(index)")?.status != .succeeded {
                    missing.append(index)
                }
                if !missing.isEmpty {
                    let lists = try await producer.redis.send("KEYS", .string(producer.keys.base + "*"))
                    let keys = lists.array?.compactMap(\.string) ?? []
                    var report =
                        "missing \(missing); keys \(keys.filter { !$0.contains("result:") && !$0.contains("image") })"
                    for key in lists.array?.compactMap(\.string).filter({ $0.contains("processing") }) ?? [] {
                        report += " \(key)=\(try await producer.redis.send("LLEN", .string(key)).int ?? -1)"
                    }
                    let workers = try await producer.redis.send(
                        "ZRANGE",
                        .string(producer.keys.workers),
                        "0",
                        "-1",
                        "WITHSCORES"
                    )
                    report += " workers=\(workers)"
                    report += " epochs=\(try await producer.redis.send("HGETALL", .string(producer.keys.epochs)))"
                    Issue.record(Comment(rawValue: report))
                }
                #expect(try await producer.stats().dead == 0)
                // A result the old master took and did not pass on is done again: at most what the
                // worker had in flight, and what replication had not yet carried over. A planned
                // failover is announced before the promotion, and the worker writes nothing to the
                // old master after it (a second or so of jobs, paid again, if it did).
                let paidTwice = fake.stats.billed - jobs
                #expect(paidTwice <= (failover == .planned ? 1 : 2) * configuration.concurrency)
                await producer.shutdown()
            }
        }
        await cluster.stop()
        try outcome.get()
    }
}
