import Foundation
import IDCardContract
import IDCardQueue
import NIOConcurrencyHelpers

/// A master, two replicas and three Sentinels (Debian's `redis-sentinel`) on loopback, for tests
/// and the chaos run: failovers planned (`SENTINEL FAILOVER`) and not (`kill -9` of the master).
public final class SentinelCluster: Sendable {
    public let masterName = "mymaster"
    /// The master first, then the replicas; a killed one stays in the list, stopped.
    public let servers: [RedisServer]
    private let sentinels: [Process]
    public let sentinelPorts: [Int]
    private let directory: URL
    private let client: NIOLockedValueBox<RedisClient?> = NIOLockedValueBox(nil)

    /// With TLS: the servers and the Sentinels take only TLS, and replicate over it.
    public let tls: RedisServer.TLS?

    /// What a client needs to trust the certificates (which name 127.0.0.1), with TLS.
    public var clientTLS: RedisConfiguration.TLS? {
        tls?.client
    }

    /// `redis+sentinel://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3/mymaster/0` (`rediss+sentinel://`
    /// with TLS)
    public var url: String {
        (tls == nil ? "redis+sentinel://" : "rediss+sentinel://")
            + sentinelPorts.map { "127.0.0.1:\($0)" }.joined(separator: ",") + "/\(masterName)/0"
    }

    /// Starts the servers and Sentinels and waits until every Sentinel sees both replicas and the others.
    /// - Parameter downAfter: how long a master must be silent before the Sentinels fail it over.
    /// - Parameter tls: servers and Sentinels that take only TLS; the certificate must name `IP:127.0.0.1`.
    public init(downAfter: Duration = .seconds(1), tls: RedisServer.TLS? = nil) async throws {
        self.tls = tls
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "idocr-sentinels-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Every server may become the master: none waits to sync replicas in one go.
        let fastSync = ["--repl-diskless-sync-delay", "0"] + (tls == nil ? [] : ["--tls-replication", "yes"])
        let master = try await RedisServer(arguments: fastSync, tls: tls)
        var servers = [master]
        for _ in 0..<2 {
            servers.append(
                try await RedisServer(arguments: fastSync + ["--replicaof", "127.0.0.1", "\(master.port)"], tls: tls)
            )
        }
        self.servers = servers
        for replica in servers.dropFirst() {
            let client = RedisClient(
                configuration: RedisConfiguration(
                    host: "127.0.0.1",
                    port: replica.port,
                    tls: tls?.client
                )
            )
            let synced = await Result {
                try await eventually("replica \(replica.port) in sync", timeout: 30) {
                    try await client.send("INFO", "replication").string?.contains("master_link_status:up") == true
                }
            }
            await client.shutdown()
            try synced.get()
        }
        var ports: [Int] = []
        var processes: [Process] = []
        for index in 0..<3 {
            let port = try FreePort.pick()
            let configuration = directory.appendingPathComponent("sentinel-\(index).conf")
            try """
            port \(tls == nil ? port : 0)
            bind 127.0.0.1
            daemonize no
            dir \(directory.path)
            logfile \(directory.appendingPathComponent("sentinel-\(index).log").path)
            sentinel monitor \(masterName) 127.0.0.1 \(master.port) 2
            sentinel down-after-milliseconds \(masterName) \(Int(downAfter / .milliseconds(1)))
            sentinel failover-timeout \(masterName) 6000
            sentinel parallel-syncs \(masterName) 1
            \(tls.map { Self.sentinelTLS($0, port: port) } ?? "")

            """.write(to: configuration, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-sentinel")
            process.arguments = [configuration.path]
            try process.run()
            processes.append(process)
            ports.append(port)
        }
        sentinels = processes
        sentinelPorts = ports
        let name = masterName
        for port in ports {
            let client = RedisClient(
                configuration: RedisConfiguration(
                    host: "127.0.0.1",
                    port: port,
                    timeoutSeconds: 2,
                    tls: tls?.client
                )
            )
            let seen = await Result {
                try await eventually("Sentinel \(port) sees two replicas and two Sentinels", timeout: 30) {
                    let replicas = try await client.send("SENTINEL", "replicas", .string(name)).array?.count ?? 0
                    let others = try await client.send("SENTINEL", "sentinels", .string(name)).array?.count ?? 0
                    return replicas == 2 && others == 2
                }
            }
            await client.shutdown()
            try seen.get()
        }
    }

    /// The master the Sentinels name now.
    public func masterPort() async throws -> Int {
        let reply = try await sentinelClient().send("SENTINEL", "get-master-addr-by-name", .string(masterName))
        guard let port = reply.array?.last?.int else { throw TestSupportError("no master named: \(reply)") }
        return port
    }

    /// A planned failover (`SENTINEL FAILOVER`); returns once the Sentinels name the new master.
    @discardableResult
    public func failover() async throws -> Int {
        let before = try await masterPort()
        _ = try await sentinelClient().send("SENTINEL", "FAILOVER", .string(masterName))
        return try await newMaster(other: before)
    }

    /// `kill -9` of the master; returns once the Sentinels have promoted a replica.
    @discardableResult
    public func killMaster() async throws -> Int {
        let before = try await masterPort()
        guard let master = servers.first(where: { $0.port == before }) else {
            throw TestSupportError("the master is none of ours")
        }
        await master.kill()
        return try await newMaster(other: before)
    }

    private func newMaster(other before: Int) async throws -> Int {
        var after = before
        try await eventually("the Sentinels name a new master", timeout: 30) {
            after = try await self.masterPort()
            return after != before
        }
        return after
    }

    /// A Sentinel's TLS lines: its port takes only TLS, and it reaches the servers over TLS.
    private static func sentinelTLS(_ tls: RedisServer.TLS, port: Int) -> String {
        """
        tls-port \(port)
        tls-cert-file \(tls.certificates.serverCertificateFile)
        tls-key-file \(tls.certificates.serverKeyFile)
        tls-ca-cert-file \(tls.certificates.caFile)
        tls-auth-clients no
        tls-replication yes
        """
    }

    public func stop() async {
        if let client = client.withLockedValue({ $0 }) { await client.shutdown() }
        for process in sentinels { await RedisServer.end(process, signal: SIGKILL) }
        for server in servers { await server.stop() }
        try? FileManager.default.removeItem(at: directory)
    }

    private func sentinelClient() -> RedisClient {
        client.withLockedValue { client in
            if let client { return client }
            let made = RedisClient(
                configuration: RedisConfiguration(
                    host: "127.0.0.1",
                    port: sentinelPorts[0],
                    timeoutSeconds: 2,
                    tls: clientTLS
                )
            )
            client = made
            return made
        }
    }

    deinit {
        for process in sentinels where RedisServer.hasNotExited(process.processIdentifier) {
            kill(process.processIdentifier, SIGKILL)
        }
    }
}
