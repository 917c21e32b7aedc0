import Foundation
import IDCardContract
import IDCardQueue

/// A Redis Cluster on loopback, made as its operators make one: Debian's `redis-server` with
/// `cluster-enabled yes`, joined by `redis-cli --cluster create` with a replica per master. For
/// tests, the chaos run and the benchmark: a slot migrated under a running fleet (`MOVED` and
/// `ASK`), a planned failover (`CLUSTER FAILOVER`) and a `kill -9` of a master.
public final class RedisClusterServers: Sendable {
    /// Every node, masters and replicas as `redis-cli` paired them; a killed one stays, stopped.
    public let servers: [RedisServer]
    /// With TLS: every node takes only TLS, from clients, from each other (`tls-cluster`) and
    /// from its replicas (`tls-replication`).
    public let tls: RedisServer.TLS?

    /// `redis+cluster://127.0.0.1:P1,…` (`rediss+cluster://` with TLS): every node as a seed.
    public var url: String {
        (tls == nil ? "redis+cluster://" : "rediss+cluster://")
            + servers.map { "127.0.0.1:\($0.port)" }.joined(separator: ",")
    }

    /// What a client needs to trust the nodes' certificates (which name 127.0.0.1), with TLS.
    public var clientTLS: RedisConfiguration.TLS? {
        tls?.client
    }

    /// One node alone, as an operator's client reaches it.
    public func configuration(of server: RedisServer) -> RedisConfiguration {
        RedisConfiguration(host: "127.0.0.1", port: server.port, timeoutSeconds: 5, tls: clientTLS)
    }

    public var configuration: RedisConfiguration {
        RedisConfiguration(
            cluster: RedisConfiguration.Cluster(
                seeds: servers.map { RedisConfiguration.Node(host: "127.0.0.1", port: $0.port) }
            ),
            tls: clientTLS
        )
    }

    /// Starts `masters` masters and as many replicas, joins them, and waits until every node
    /// says the cluster is ok and every replica is in sync.
    /// - Parameter nodeTimeout: how long a master must be silent before its replica takes over.
    /// - Parameter tls: nodes that take only TLS; their certificate must name `IP:127.0.0.1`.
    public init(masters: Int = 3, nodeTimeout: Duration = .seconds(2), tls: RedisServer.TLS? = nil) async throws {
        var servers: [RedisServer] = []
        for _ in 0..<(masters * 2) {
            let busPort = try FreePort.pick()
            let overTLS = tls == nil ? [] : ["--tls-cluster", "yes", "--tls-replication", "yes"]
            servers.append(
                try await RedisServer(
                    arguments: [
                        "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port",
                        "\(busPort)", "--cluster-node-timeout", "\(Int(nodeTimeout / .milliseconds(1)))",
                        "--repl-diskless-sync-delay", "0", "--appendonly", "no",
                    ] + overTLS,
                    tls: tls
                )
            )
        }
        self.servers = servers
        self.tls = tls
        let cliTLS = tls.map { ["--tls", "--cacert", $0.certificates.caFile] } ?? []
        try await Self.run(
            "/usr/bin/redis-cli",
            cliTLS + ["--cluster", "create"] + servers.map { "127.0.0.1:\($0.port)" } + [
                "--cluster-replicas", "1", "--cluster-yes",
            ]
        )
        try await waitUntilHealthy()
    }

    /// Waits until every live node says `cluster_state:ok`, agrees on who serves every slot, and
    /// every replica is in sync with its master.
    public func waitUntilHealthy(timeout: Double = 60) async throws {
        try await eventually("the cluster is ok on every node", timeout: timeout) {
            var maps: Set<String> = []
            for server in self.servers where server.isRunning {
                let info = try await self.send(["CLUSTER", "INFO"], to: server).string ?? ""
                guard info.contains("cluster_state:ok") else { return false }
                let role = try await self.send(["INFO", "replication"], to: server).string ?? ""
                if role.contains("role:slave") && !role.contains("master_link_status:up") { return false }
                maps.insert(try await self.slotOwners(askingServer: server))
            }
            return maps.count == 1
        }
    }

    /// The node serving `key`'s slot now, as the cluster says.
    public func master(of key: String) async throws -> RedisServer {
        let slot = HashSlot(key: key).value
        for server in servers where server.isRunning {
            guard let ranges = try? await send(["CLUSTER", "SLOTS"], to: server).array else { continue }
            for range in ranges {
                guard let parts = range.array, parts.count >= 3, let start = parts[0].int, let end = parts[1].int,
                    (start...end).contains(slot), let port = parts[2].array?[1].int,
                    let master = servers.first(where: { $0.port == port })
                else { continue }
                return master
            }
        }
        throw TestSupportError("no node says who serves slot \(slot)")
    }

    /// The masters now.
    public func masters() async throws -> [RedisServer] {
        var found: [RedisServer] = []
        for server in servers where server.isRunning {
            let role = try await send(["ROLE"], to: server).array?.first?.string
            if role == "master" { found.append(server) }
        }
        return found
    }

    /// Moves the slot of `key` to `target` as `redis-cli --cluster reshard` does, step by step:
    /// ``beginMigration(slotOf:to:)``, the keys a few at a time with `pause` between
    /// (``moveKeys(slotOf:to:keysPerStep:pause:)``), then ``finishMigration(slotOf:to:)``.
    public func migrateSlot(of key: String, to target: RedisServer, keysPerStep: Int = 2, pause: Duration) async throws
    {
        let source = try await master(of: key)
        try await beginMigration(slotOf: key, to: target)
        try await moveKeys(slotOf: key, from: source, to: target, keysPerStep: keysPerStep, pause: pause)
        try await finishMigration(slotOf: key, from: source, to: target)
    }

    /// The target imports the slot of `key`, its master migrates it: from now on a command on a
    /// key the source no longer has is answered `ASK` (and `TRYAGAIN` for a script some of whose
    /// keys it has and some not).
    public func beginMigration(slotOf key: String, to target: RedisServer) async throws {
        let source = try await master(of: key)
        guard source.port != target.port else { throw TestSupportError("the slot is already on \(target.port)") }
        let slot = RedisArgument.int(HashSlot(key: key).value)
        try await expectOK(
            ["CLUSTER", "SETSLOT", slot, "IMPORTING", .string(try await nodeID(of: source))],
            to: target
        )
        try await expectOK(
            ["CLUSTER", "SETSLOT", slot, "MIGRATING", .string(try await nodeID(of: target))],
            to: source
        )
    }

    /// Moves the keys of `key`'s slot from `source` to `target` with `MIGRATE`, a few at a time.
    public func moveKeys(
        slotOf key: String,
        from source: RedisServer,
        to target: RedisServer,
        keysPerStep: Int = 2,
        pause: Duration = .zero
    ) async throws {
        let slot = RedisArgument.int(HashSlot(key: key).value)
        while true {
            let keys = try await send(["CLUSTER", "GETKEYSINSLOT", slot, .int(keysPerStep)], to: source).array ?? []
            if keys.isEmpty { break }
            let names = keys.compactMap(\.data).map { RedisArgument.data($0) }
            let reply = try await send(
                ["MIGRATE", "127.0.0.1", .int(target.port), "", "0", "5000", "KEYS"] + names,
                to: source
            )
            if case .error(let message) = reply { throw TestSupportError("MIGRATE: \(message)") }
            if pause > .zero { try await Task.sleep(for: pause) }
        }
    }

    /// Every master is told the target serves the slot of `key` now: clients meet `MOVED`.
    public func finishMigration(slotOf key: String, from source: RedisServer, to target: RedisServer) async throws {
        let slot = RedisArgument.int(HashSlot(key: key).value)
        let targetID = try await nodeID(of: target)
        try await expectOK(["CLUSTER", "SETSLOT", slot, "NODE", .string(targetID)], to: target)
        try await expectOK(["CLUSTER", "SETSLOT", slot, "NODE", .string(targetID)], to: source)
        for server in try await masters() where server.port != source.port && server.port != target.port {
            _ = try await send(["CLUSTER", "SETSLOT", slot, "NODE", .string(targetID)], to: server)
        }
    }

    /// `command` on `server` right after `ASKING`, on one connection: what a client redirected by
    /// `ASK` does; for tests to read what a migration put on its target.
    public func sendAsking(_ command: [RedisArgument], to server: RedisServer) async throws -> RedisValue {
        let client = RedisClient(configuration: configuration(of: server))
        let reply = await Result {
            _ = try await client.send("ASKING")
            return try await client.send(command)
        }
        await client.shutdown()
        return try reply.get()
    }

    /// A planned failover of the master serving `key`: its replica runs `CLUSTER FAILOVER`.
    /// Returns the new master once the cluster is healthy again.
    @discardableResult
    public func failover(masterOf key: String) async throws -> RedisServer {
        let master = try await master(of: key)
        let replica = try await replica(of: master)
        try await expectOK(["CLUSTER", "FAILOVER"], to: replica)
        try await eventually("the replica \(replica.port) is the master", timeout: 30) {
            try await self.master(of: key).port == replica.port
        }
        try await waitUntilHealthy()
        return replica
    }

    /// `kill -9` of the master serving `key`; returns its replica once that has taken over.
    @discardableResult
    public func killMaster(of key: String) async throws -> RedisServer {
        let master = try await master(of: key)
        let replica = try await replica(of: master)
        await master.kill()
        try await eventually("the replica \(replica.port) took over", timeout: 60) {
            try await self.send(["ROLE"], to: replica).array?.first?.string == "master"
        }
        try await waitUntilHealthy()
        return replica
    }

    public func stop() async {
        for server in servers { await server.stop() }
    }

    private func replica(of master: RedisServer) async throws -> RedisServer {
        let masterID = try await nodeID(of: master)
        for server in servers where server.port != master.port && server.isRunning {
            let nodes = try await send(["CLUSTER", "NODES"], to: server).string ?? ""
            let myself = nodes.split(separator: "\n").first { $0.contains("myself") } ?? ""
            let fields = myself.split(separator: " ")
            if fields.count > 3 && fields[2].contains("slave") && fields[3] == masterID { return server }
        }
        throw TestSupportError("master \(master.port) has no replica")
    }

    /// Who serves each slot as `server` sees it, as one comparable text.
    private func slotOwners(askingServer server: RedisServer) async throws -> String {
        let ranges = try await send(["CLUSTER", "SLOTS"], to: server).array ?? []
        return ranges.compactMap { range -> String? in
            guard let parts = range.array, parts.count >= 3, let start = parts[0].int, let port = parts[2].array?[1].int
            else { return nil }
            return "\(start):\(port)"
        }.sorted().joined(separator: ",")
    }

    private func nodeID(of server: RedisServer) async throws -> String {
        guard let id = try await send(["CLUSTER", "MYID"], to: server).string else {
            throw TestSupportError("CLUSTER MYID gave no id")
        }
        return id
    }

    private func expectOK(_ command: [RedisArgument], to server: RedisServer) async throws {
        let reply = try await send(command, to: server)
        if case .error(let message) = reply {
            throw TestSupportError("\(command.prefix(3).map(\.description).joined(separator: " ")): \(message)")
        }
    }

    /// One command to one node, on a connection of its own (no routing: this is the operator).
    /// An error reply is returned, not thrown.
    private func send(_ command: [RedisArgument], to server: RedisServer) async throws -> RedisValue {
        let client = RedisClient(configuration: configuration(of: server))
        let reply = await Result { try await client.send(command) }
        await client.shutdown()
        if case .failure(let error as RedisError) = reply, error.code == .server { return .error(error.message) }
        return try reply.get()
    }

    /// Runs a tool to its end; its output goes to the test's log only when it fails.
    private static func run(_ tool: String, _ arguments: [String]) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let status = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<Int32, any Error>) in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
            }
        }
        guard status == 0 else {
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw TestSupportError("\(tool) \(arguments.prefix(2).joined(separator: " ")) failed: \(text.suffix(2000))")
        }
    }
}
