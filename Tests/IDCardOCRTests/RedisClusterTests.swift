import Foundation
import IDCardContract
import IDCardTestSupport
import Testing

@testable import IDCardQueue
@testable import IDCardWorker

/// Redis Cluster as managed offerings run it: three masters, a replica each, made with
/// `redis-cli --cluster create`; a queue's slot migrated while jobs run, failovers planned and by
/// `kill -9`.
@Suite("Redis Cluster", .serialized)
struct RedisClusterTests {
    @Test("redis+cluster:// URLs: seed nodes, credentials, TLS; a database other than 0 refused")
    func urls() throws {
        let configuration = try RedisConfiguration(
            url: "rediss+cluster://worker:s%40cret@10.0.0.1:7000,10.0.0.2,[fd00::3]:7001"
        )
        let cluster = try #require(configuration.cluster)
        #expect(
            cluster.seeds == [
                .init(host: "10.0.0.1", port: 7000), .init(host: "10.0.0.2", port: 6379),
                .init(host: "fd00::3", port: 7001),
            ]
        )
        #expect(configuration.username == "worker" && configuration.password == "s@cret" && configuration.tls != nil)
        #expect(try RedisConfiguration(url: "redis+cluster://10.0.0.1:7000/0").cluster != nil)
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "redis+cluster://10.0.0.1:7000/2") }
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "redis+cluster:///") }
    }

    @Test("queues spread over the masters; the map read from a replica; no command sent to a replica")
    func routing() async throws {
        let cluster = try await RedisClusterServers()
        let outcome = await Result {
            let masters = Set(try await cluster.masters().map(\.port))
            // Seeds that are all replicas: the map is read there, and every write must still go
            // to a master (a replica would answer MOVED, which the client counts).
            let replicas = cluster.servers.filter { !masters.contains($0.port) }
            let client = RedisClient(
                configuration: RedisConfiguration(
                    cluster: .init(seeds: replicas.map { .init(host: "127.0.0.1", port: $0.port) })
                )
            )
            var owners: Set<Int> = []
            for index in 0..<12 {
                let key = QueueKeys(queue: "spread-\(index)").pending
                _ = try await client.send("LPUSH", .string(key), "x")
                let master = try await cluster.master(of: key)
                let direct = RedisClient(configuration: cluster.configuration(of: master))
                #expect(try await direct.send("LLEN", .string(key)).int == 1)
                await direct.shutdown()
                owners.insert(master.port)
            }
            // Slots of these twelve names fall in every third of the slots redis-cli hands out.
            #expect(owners == masters)
            #expect(client.redirects == 0)
            await client.shutdown()
        }
        await cluster.stop()
        try outcome.get()
    }

    @Test("ASK during a slot's migration: a key the source no longer has is reached on the target; MOVED after it")
    func ask() async throws {
        let cluster = try await RedisClusterServers()
        let outcome = await Result {
            let client = RedisClient(configuration: cluster.configuration)
            let keys = QueueKeys(queue: "asked")
            _ = try await client.send("LPUSH", .string(keys.pending), "a")
            let source = try await cluster.master(of: keys.pending)
            let target = try #require(try await cluster.masters().first { $0.port != source.port })
            try await cluster.beginMigration(slotOf: keys.pending, to: target)
            // Still on the source: it is served there.
            _ = try await client.send("LPUSH", .string(keys.pending), "b")
            #expect(client.redirects == 0)
            // Not on the source: ASK, and the push lands on the target.
            _ = try await client.send("LPUSH", .string(keys.dead), "letter")
            #expect(client.redirects == 1)
            #expect(try await cluster.sendAsking(["LLEN", .string(keys.dead)], to: target).int == 1)
            // ASK changes no map: the next command on that key is asked again.
            #expect(try await client.send("LLEN", .string(keys.dead)).int == 1)
            #expect(client.redirects == 2)
            try await cluster.moveKeys(slotOf: keys.pending, from: source, to: target)
            try await cluster.finishMigration(slotOf: keys.pending, from: source, to: target)
            #expect(try await client.send("LLEN", .string(keys.pending)).int == 2)
            #expect(client.redirects == 3)
            #expect(try await client.send("LLEN", .string(keys.dead)).int == 1)
            #expect(client.redirects == 3)
            await client.shutdown()
        }
        await cluster.stop()
        try outcome.get()
    }

    @Test("a worker reaches a TLS-only cluster directly: nodes, replication and the cluster bus all over TLS")
    func overTLS() async throws {
        let certificates = try await TestCertificates(names: ["DNS:localhost", "IP:127.0.0.1"])
        defer { certificates.remove() }
        let cluster = try await RedisClusterServers(tls: RedisServer.TLS(certificates: certificates))
        let outcome = await Result {
            let fake = ShowAPIFake()
            try await fake.serve { url in
                var configuration = Harness.configuration(
                    redis: cluster.servers[0],
                    queue: Harness.uniqueQueue(),
                    fakeURL: url
                )
                configuration.redisURL = cluster.url
                #expect(configuration.redisURL.hasPrefix("rediss+cluster://"))
                configuration.redisTLS.caFile = certificates.caFile
                let producer = try Harness.openQueue(configuration)
                try await producer.enqueue((0..<20).map { Harness.job(id: "ctls-\($0)") })
                try await Harness.withWorker(configuration) { _ in
                    try await Harness.eventually("20 results") { try await producer.stats().succeeded == 20 }
                }
                #expect(try await producer.result(id: "ctls-7")?.status == .succeeded)
                #expect(fake.stats.billed == 20)
                // Plain TCP to a node is refused.
                let plain = RedisClient(
                    configuration: RedisConfiguration(
                        host: "127.0.0.1",
                        port: cluster.servers[0].port,
                        timeoutSeconds: 2
                    )
                )
                await #expect(throws: RedisError.self) { try await plain.send("PING") }
                await plain.shutdown()
                await producer.shutdown()
            }
        }
        await cluster.stop()
        try outcome.get()
    }

    enum Change: String, CaseIterable, Sendable {
        case migration = "the queue's slot migrated to another master (ASK, then MOVED)"
        case planned = "CLUSTER FAILOVER"
        case killed = "kill -9 of the queue's master"
    }

    @Test(
        """
        a worker on a cluster goes on through a change of its queue's master: nothing lost, paid twice at most what \
        was in flight
        """,
        arguments: Change.allCases
    )
    func change(_ change: Change) async throws {
        let cluster = try await RedisClusterServers()
        let outcome = await Result {
            var fakeConfiguration = ShowAPIFake.Configuration()
            fakeConfiguration.latency = .milliseconds(100)
            let fake = ShowAPIFake(configuration: fakeConfiguration)
            try await fake.serve { url in
                var configuration = Harness.configuration(
                    redis: cluster.servers[0],
                    queue: Harness.uniqueQueue() + "-\(change)",
                    fakeURL: url
                )
                configuration.redisURL = cluster.url
                let producer = try Harness.openQueue(configuration)
                let jobs = 150
                try await producer.enqueue((0..<jobs).map { Harness.job(id: "cl-\($0)") })
                let queueKey = producer.keys.pending
                let first = try await cluster.master(of: queueKey)
                try await Harness.withWorker(configuration) { worker in
                    try await Harness.eventually("a third of the jobs done", timeout: 30) {
                        try await producer.stats().succeeded >= jobs / 3
                    }
                    let before = worker.queue.redis.redirects
                    switch change {
                    case .migration:
                        let target = try await cluster.masters().first { $0.port != first.port }
                        try await cluster.migrateSlot(
                            of: queueKey,
                            to: try #require(target),
                            keysPerStep: 5,
                            pause: .milliseconds(20)
                        )
                    case .planned: try await cluster.failover(masterOf: queueKey)
                    case .killed: try await cluster.killMaster(of: queueKey)
                    }
                    #expect(try await cluster.master(of: queueKey).port != first.port)
                    do {
                        try await Harness.eventually("every job done on the new master", timeout: 60) {
                            let stats = try await producer.stats()
                            return stats.pending == 0 && stats.processing == 0 && stats.delayed == 0
                                && stats.succeeded + stats.failed >= jobs
                        }
                    } catch {
                        let now = try? await cluster.master(of: queueKey).port
                        Issue.record(
                            """
                            the cluster's master \(now.map(String.init) ?? "?"); the producer's map \
                            \(producer.redis.clusterMaster(of: queueKey) ?? "?"), the worker's \
                            \(worker.queue.redis.clusterMaster(of: queueKey) ?? "?")
                            """
                        )
                        throw error
                    }
                    try await Harness.eventually("ready") { worker.health.isReady }
                    if change != .killed {
                        // The worker learned the move from the cluster's own redirects.
                        #expect(worker.queue.redis.redirects > before)
                    }
                    let followed = worker.queue.redis.redirects - before
                    print("Redis Cluster, \(change): the worker followed \(followed) redirects")
                }
                var missing: [Int] = []
                for index in 0..<jobs where try await producer.result(id: "cl-\(index)")?.status != .succeeded {
                    missing.append(index)
                }
                #expect(missing.isEmpty, "missing \(missing)")
                #expect(try await producer.stats().dead == 0)
                // As with Sentinel: what the old master took and did not pass on is done again, at
                // most what the worker had in flight (twice over for a master killed unannounced).
                // A migration moves every key whole: nothing is done twice.
                let paidTwice = fake.stats.billed - jobs
                let bound =
                    switch change {
                    case .migration: 0
                    case .planned: configuration.concurrency
                    case .killed: 2 * configuration.concurrency
                    }
                #expect(paidTwice <= bound)
                print("Redis Cluster, \(change): \(jobs) jobs, \(paidTwice) paid twice")
                await producer.shutdown()
            }
        }
        await cluster.stop()
        try outcome.get()
    }
}
