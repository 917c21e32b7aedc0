import Foundation
import Testing

@testable import IDCardQueue

/// How a command finds its master in a Redis Cluster, without a server: slots, the map, redirects.
@Suite("Redis Cluster routing")
struct ClusterRoutingTests {
    @Test("hash slots as Redis computes them: CRC16 of the key, or of its hash tag when not empty")
    func slots() {
        // Values from `CLUSTER KEYSLOT` of Redis 7.0.
        #expect(HashSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        #expect(HashSlot(key: "foo").value == 12182)
        #expect(HashSlot(key: "idocr:{idcard}:pending").value == HashSlot(key: "idcard").value)
        #expect(HashSlot(key: "{user1000}.following") == HashSlot(key: "{user1000}.followers"))
        // An empty tag, or none closed, hashes the whole key.
        #expect(HashSlot(key: "foo{}{bar}").value == Int(HashSlot.crc16("foo{}{bar}".utf8) % 16384))
        #expect(HashSlot(key: "foo{{bar}}zap").value == HashSlot(key: "{bar").value)
        #expect(HashSlot(key: "foo{bar").value == Int(HashSlot.crc16("foo{bar".utf8) % 16384))
    }

    @Test("a command goes by its first key; a script by its first key; a keyless one to any master")
    func routes() {
        let queue = HashSlot(key: "idcard")
        #expect(ClusterRoute(command: ["LPUSH", "idocr:{idcard}:pending", "job"]) == .slot(queue))
        #expect(ClusterRoute(command: ["EVALSHA", "abc", "2", "idocr:{idcard}:pending", "x", "arg"]) == .slot(queue))
        #expect(ClusterRoute(command: ["EVALSHA", "abc", "0", "arg"]) == .anyMaster)
        #expect(ClusterRoute(command: ["PING"]) == .anyMaster)
        #expect(ClusterRoute(command: ["cluster", "slots"]) == .anyMaster)
        #expect(ClusterRoute(command: ["GET", .data(Data("idocr:{idcard}:result:1".utf8))]) == .slot(queue))
    }

    @Test("MOVED and ASK replies name the slot and the node; other errors are none")
    func redirects() {
        let server = RedisConfiguration.Node(host: "10.0.0.9", port: 7000)
        #expect(
            ClusterRedirect(errorReply: "MOVED 3999 127.0.0.1:6381", answeredBy: server)
                == .moved(slot: HashSlot(3999)!, to: .init(host: "127.0.0.1", port: 6381))
        )
        #expect(
            ClusterRedirect(errorReply: "ASK 12182 [fd00::1]:7002", answeredBy: server)
                == .ask(slot: HashSlot(12182)!, to: .init(host: "fd00::1", port: 7002))
        )
        #expect(
            ClusterRedirect(errorReply: "MOVED 1 :7003", answeredBy: server)
                == .moved(slot: HashSlot(1)!, to: .init(host: "10.0.0.9", port: 7003))
        )
        #expect(ClusterRedirect(errorReply: "MOVED 16384 127.0.0.1:6381", answeredBy: server) == nil)
        #expect(ClusterRedirect(errorReply: "ERR unknown command", answeredBy: server) == nil)
        #expect(ClusterRedirect(errorReply: "CLUSTERDOWN The cluster is down", answeredBy: server) == nil)
    }

    @Test("the slot map keeps masters only, fills gaps from MOVED, and refuses replies of another shape")
    func slotMap() throws {
        func node(_ port: Int, host: String = "127.0.0.1") -> RedisValue {
            .array([.bulk(Data(host.utf8)), .integer(port), .bulk(Data("id\(port)".utf8))])
        }
        let reply = RedisValue.array([
            .array([.integer(0), .integer(5460), node(7000), node(7003)]),
            .array([.integer(5461), .integer(10922), node(7001, host: ""), node(7004)]),
            .array([.integer(10923), .integer(16383), node(7002), node(7005)]),
        ])
        let server = RedisConfiguration.Node(host: "10.0.0.9", port: 7001)
        var map = try ClusterSlotMap(clusterSlots: reply, answeredBy: server)
        #expect(map.coveredSlots == HashSlot.count)
        #expect(map.masters.map(\.port) == [7000, 7001, 7002])
        #expect(map.master(of: HashSlot(0)!) == .init(host: "127.0.0.1", port: 7000))
        #expect(map.master(of: HashSlot(5461)!) == .init(host: "10.0.0.9", port: 7001))
        #expect(map.master(of: HashSlot(16383)!)?.port == 7002)
        map.move(HashSlot(16383)!, to: .init(host: "127.0.0.1", port: 7000))
        #expect(map.master(of: HashSlot(16383)!)?.port == 7000)
        #expect(map.master(of: HashSlot(16382)!)?.port == 7002)

        let partial = try ClusterSlotMap(
            clusterSlots: .array([.array([.integer(0), .integer(99), node(7000)])]),
            answeredBy: server
        )
        #expect(partial.coveredSlots == 100 && partial.master(of: HashSlot(100)!) == nil)
        #expect(throws: RedisError.self) { try ClusterSlotMap(clusterSlots: .integer(1), answeredBy: server) }
        #expect(throws: RedisError.self) {
            try ClusterSlotMap(
                clusterSlots: .array([.array([.integer(9), .integer(1), node(7000)])]),
                answeredBy: server
            )
        }
    }
}
