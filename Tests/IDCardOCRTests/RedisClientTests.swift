import Foundation
import IDCardContract
import IDCardTestSupport
import Testing

@testable import IDCardQueue

@Suite("The pipelined Redis client against a real redis-server")
struct RedisClientTests {
    @Test("commands sent at once share round trips, and each reply reaches its own sender")
    func sharedRoundTrips() async throws {
        try await Harness.withRedis { redis in
            let client = RedisClient(configuration: try RedisConfiguration(url: redis.url))
            let key = "pipeline-\(UInt32.random(in: .min ... .max))"
            // A script keeping Redis busy for 300 ms holds the connection; everything sent meanwhile
            // waits in the outbox and must then go out together.
            let busy =
                "local t = redis.call('TIME'); local start = t[1] * 1000000 + t[2]; "
                + "repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start > 300000; return 1"
            async let slow = client.send("EVAL", .string(busy), "0")
            try await Task.sleep(for: .milliseconds(50))
            let before = client.roundTrips
            let replies = try await withThrowingTaskGroup(of: (Int, Int?).self) { group in
                for index in 0..<200 {
                    group.addTask { (index, try await client.send("RPUSH", .string(key), .int(index)).int) }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            #expect(try await slow.int == 1)
            // RPUSH answers the list's new length: the order Redis ran them in, once each.
            #expect(Set(replies.values) == Set(1...200))
            let list = try await client.send("LRANGE", .string(key), "0", "-1").array?.compactMap(\.string) ?? []
            for (index, length) in replies {
                #expect(list[length - 1] == String(index), "reply \(length) went to the sender of \(index)")
            }
            #expect(
                client.roundTrips - before <= 4,
                "200 commands sent while one was out took \(client.roundTrips - before) round trips"
            )
            await client.shutdown()
        }
    }

    @Test("large commands sent at once each arrive whole, and replies larger than a read are put back together")
    func largeCommands() async throws {
        try await Harness.withRedis { redis in
            let client = RedisClient(configuration: try RedisConfiguration(url: redis.url))
            let values = (0..<12).map { index in Data((0..<(300 << 10)).map { UInt8(($0 + index) % 251) }) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, value) in values.enumerated() {
                    group.addTask { _ = try await client.send("SET", .string("big-\(index)"), .data(value)) }
                }
                try await group.waitForAll()
            }
            let read = try await withThrowingTaskGroup(of: (Int, Data?).self) { group in
                for index in values.indices {
                    group.addTask { (index, try await client.send("GET", .string("big-\(index)")).data) }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            for (index, value) in values.enumerated() { #expect(read[index] == value, "big-\(index)") }
            await client.shutdown()
        }
    }

    @Test("a dropped connection fails the commands in flight with a connection error; the next command reconnects")
    func reconnects() async throws {
        try await Harness.withRedis { redis in
            let configuration = try RedisConfiguration(url: redis.url)
            let client = RedisClient(configuration: configuration, readTimeoutSeconds: 10)
            let other = RedisClient(configuration: configuration)
            let id = try #require(try await client.send("CLIENT", "ID").int)
            async let blocked = Result { try await client.send("BLPOP", "nothing-comes", "5") }
            try await Harness.eventually("the pop waits") {
                try await other.send("CLIENT", "LIST", "ID", .int(id)).string?.contains("cmd=blpop") == true
            }
            _ = try await other.send("CLIENT", "KILL", "ID", .int(id))
            guard case .failure(let error) = await blocked else {
                Issue.record("the pop on the killed connection answered")
                return
            }
            #expect((error as? RedisError)?.code == .connection)
            #expect(client.brokenConnections == 1)
            #expect(try await client.send("PING").string == "PONG")
            await client.shutdown()
            await other.shutdown()
            await #expect(throws: RedisError.self) { _ = try await client.send("PING") }
        }
    }

    /// Sentinel's `+switch-master` (or a `READONLY`) has the client leave its connection while a
    /// command waits behind one on the wire: the waiting one was never written, so it must go to
    /// the new connection, not fail (a CI run's producer push failed so, mid-failover).
    @Test("a command queued when the connection is left for a new master is sent on the next one, once")
    func queuedCommandFollowsTheMove() async throws {
        try await Harness.withRedis { redis in
            let configuration = try RedisConfiguration(url: redis.url)
            let client = RedisClient(configuration: configuration, readTimeoutSeconds: 10)
            let other = RedisClient(configuration: configuration)
            let id = try #require(try await client.send("CLIENT", "ID").int)
            let key = "moved-\(UInt32.random(in: .min ... .max))"
            async let blocked = client.send("BLPOP", "nothing-comes", "1")
            try await Harness.eventually("the pop waits") {
                try await other.send("CLIENT", "LIST", "ID", .int(id)).string?.contains("cmd=blpop") == true
            }
            // Behind the pop on the wire: in the outbox, not written.
            async let queued = client.send("INCR", .string(key))
            try await Task.sleep(for: .milliseconds(100))
            client.reconnectSoon()
            #expect(try await blocked == .null)
            #expect(try await queued.int == 1)
            #expect(try await other.send("GET", .string(key)).string == "1")
            await client.shutdown()
            await other.shutdown()
        }
    }

    @Test(
        "with the declared-key check, a script touching a key it did not declare fails, naming it; declared keys pass"
    )
    func declaredKeysChecked() async throws {
        try await Harness.withRedis { redis in
            let client = RedisClient(configuration: try RedisConfiguration(url: redis.url))
            let body = "redis.call('SET', KEYS[1], 'x') return redis.call('GET', ARGV[1] .. 'other')"
            let checked = RedisScript.checkingDeclaredKeys(body)
            let refused = await Result { try await client.send("EVAL", .string(checked), "1", "q:declared", "q:") }
            guard case .failure(let error) = refused else {
                Issue.record("the undeclared key passed")
                return
            }
            #expect("\(error)".contains("did not declare: GET q:other"), "\(error)")
            let allowed = RedisScript.checkingDeclaredKeys(
                "redis.call('SET', KEYS[1], 'x') return redis.call('GET', KEYS[1])"
            )
            #expect(try await client.send("EVAL", .string(allowed), "1", "q:declared").string == "x")
            await client.shutdown()
        }
    }
}
