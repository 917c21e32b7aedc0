import Foundation
import IDCardContract
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A pipelined connection to Redis, shared by any number of tasks.
///
/// Commands queue for the connection's event loop, and whatever is queued while a round trip is
/// out goes in the next write (automatic pipelining, see ``RedisChannelHandler``): under load a
/// round trip carries many jobs' steps, so its cost — the wake-ups and system calls that dominate a worker's
/// CPU — is shared, and an idle client still sends a lone command at once. Nothing blocks a
/// thread: the connection is SwiftNIO's, with TLS from NIOSSL, and hiredis only parses replies.
/// Commands are not cancelled once queued: writes such as "store the result" must land even while
/// the caller is being cancelled.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let servers: Servers
    private let counts: NIOLockedValueBox<Counts>

    /// One server (or the master the Sentinels name), or the masters of a Redis Cluster.
    private enum Servers {
        case single(RedisConnection)
        case cluster(RedisCluster)
    }

    private struct Counts {
        var commands: [String: Int] = [:]
        var roundTrips = 0
        var brokenConnections = 0
        var redirects = 0
    }

    /// Commands sent so far, by command name or script name: how tests check that a job costs
    /// the few steps it should.
    public var commandCounts: [String: Int] { counts.withLockedValue { $0.commands } }

    /// Writes to Redis so far, each carrying one or more commands.
    public var roundTrips: Int { counts.withLockedValue { $0.roundTrips } }

    /// Connections that broke with commands on them so far, or were left for a new master: each
    /// may have lost replies of commands that did run, or left writes behind on the old master (a
    /// take whose job is now in a list with no one holding it).
    public var brokenConnections: Int { counts.withLockedValue { $0.brokenConnections } }

    /// In a cluster, the master the client's map names for `key`'s slot (for a test's report).
    func clusterMaster(of key: String) -> String? {
        guard case .cluster(let cluster) = servers else { return nil }
        return cluster.masterDescription(of: HashSlot(key: key))
    }

    /// Redirects a cluster node answered with so far (`MOVED` and `ASK`), each followed.
    public var redirects: Int { counts.withLockedValue { $0.redirects } }

    /// - Parameter readTimeoutSeconds: how long one reply may take; longer than any blocking command's timeout.
    public init(configuration: RedisConfiguration, readTimeoutSeconds: Double? = nil) {
        self.configuration = configuration
        let counts = NIOLockedValueBox(Counts())
        self.counts = counts
        let events = RedisChannel.Events(
            wrote: { counts.withLockedValue { $0.roundTrips += 1 } },
            broke: { counts.withLockedValue { $0.brokenConnections += 1 } }
        )
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let readTimeout = readTimeoutSeconds ?? configuration.timeoutSeconds
        if configuration.cluster != nil {
            servers = .cluster(
                RedisCluster(
                    configuration: configuration,
                    eventLoop: eventLoop,
                    readTimeoutSeconds: readTimeout,
                    events: events
                )
            )
        } else {
            servers = .single(
                RedisConnection(
                    configuration: configuration,
                    eventLoop: eventLoop,
                    readTimeoutSeconds: readTimeout,
                    events: events
                )
            )
        }
    }

    /// Has the next command start on a new connection: the master moved (`READONLY`, Sentinel's
    /// `+switch-master`); in a cluster, the slot map is read again too. Counted as a broken
    /// connection: for a moment two servers took writes, and what this client did on the old one
    /// may not be on the new one.
    public func reconnectSoon() {
        counts.withLockedValue { $0.brokenConnections += 1 }
        switch servers {
        case .single(let connection): connection.dropSoon()
        case .cluster(let cluster):
            for connection in cluster.connections { connection.dropSoon() }
            cluster.refreshSoon()
        }
    }

    /// Has the next command go to the replica a Sentinel is promoting, once it is the master
    /// (``RedisConnection/followPromotion(host:port:)``). Counted as a broken connection, as
    /// ``reconnectSoon()`` is.
    func followPromotion(host: String, port: Int) {
        guard case .single(let connection) = servers else { return }
        counts.withLockedValue { $0.brokenConnections += 1 }
        connection.followPromotion(host: host, port: port)
    }

    /// Closes the connections. Commands sent afterwards fail with ``RedisError/closed``.
    public func shutdown() async {
        switch servers {
        case .single(let connection): await connection.close()
        case .cluster(let cluster): await cluster.close()
        }
    }

    /// Sends one command. An error reply throws ``RedisError/server(_:)``.
    public func send(_ arguments: [RedisArgument]) async throws -> RedisValue {
        try await send(arguments, label: arguments.first?.description ?? "")
    }

    private func send(_ arguments: [RedisArgument], label: String) async throws -> RedisValue {
        counts.withLockedValue { $0.commands[label, default: 0] += 1 }
        let reply =
            switch servers {
            case .single(let connection): try await Self.send(arguments, on: connection)
            case .cluster(let cluster): try await send(arguments, in: cluster)
            }
        if case .error(let message) = reply {
            let error = RedisError.server(message)
            if error.needsReconnect { reconnectSoon() }
            throw error
        }
        return reply
    }

    private static func send(
        _ arguments: [RedisArgument],
        on connection: RedisConnection,
        asking: Bool = false
    ) async throws -> RedisValue {
        let channel: RedisChannel
        if let open = connection.openChannel {
            channel = open
        } else {
            channel = try await connection.channel().get()
        }
        do {
            return try await asking ? channel.sendAsking(arguments) : channel.send(arguments)
        } catch let error as RedisError where error == .leftUnsent {
            // The master moved as the command waited its turn: nothing of it was written, so it
            // goes once more, on the connection to the new master (a producer's push mid-failover
            // would otherwise fail for nothing).
            let next = try await connection.channel().get()
            return try await asking ? next.sendAsking(arguments) : next.send(arguments)
        }
    }

    /// Most redirects one command follows: a slot in migration answers `ASK` once, then the
    /// target may answer `MOVED` to a map just changed again.
    static let mostRedirects = 5

    /// Sends to the master of the command's slot, following `MOVED` and `ASK`. A connection lost
    /// or a cluster without a master for the slot has the map read again; the error still
    /// reaches the caller, who retries as after any lost connection.
    private func send(_ arguments: [RedisArgument], in cluster: RedisCluster) async throws -> RedisValue {
        do {
            var connection = try await cluster.connection(for: ClusterRoute(command: arguments))
            var asking = false
            for _ in 0..<Self.mostRedirects {
                let reply = try await Self.send(arguments, on: connection, asking: asking)
                guard case .error(let message) = reply else { return reply }
                guard let redirect = ClusterRedirect(errorReply: message, answeredBy: connection.node) else {
                    if message.hasPrefix("CLUSTERDOWN") { cluster.refreshSoon() }
                    return reply
                }
                counts.withLockedValue { $0.redirects += 1 }
                switch redirect {
                case .moved(let slot, let node):
                    cluster.moved(slot, to: node)
                    connection = try cluster.connection(to: node)
                    asking = false
                case .ask(_, let node):
                    connection = try cluster.connection(to: node)
                    asking = true
                }
            }
        } catch let error as RedisError where error.code == .connection {
            cluster.refreshSoon()
            throw error
        }
        cluster.refreshSoon()
        throw RedisError.connection("redirected \(Self.mostRedirects) times in a row: the cluster's slots are moving")
    }

    public func send(_ arguments: RedisArgument...) async throws -> RedisValue {
        try await send(arguments)
    }

    /// Runs `script` with its keys and arguments by name (``RedisScript``): `EVALSHA` by its
    /// SHA-1, and `EVAL` with its source when the server does not know it yet (first use on this
    /// server, or after a restart flushed the script cache), which also caches it there. Works the
    /// same on every master of a cluster, with no loading step to route. `absentKey` stands in for
    /// an optional key given as `nil`; `restKeys` are the script's `K.rest`.
    public func run(
        _ script: RedisScript,
        keys: KeyValuePairs<String, String?>,
        restKeys: [String] = [],
        arguments: KeyValuePairs<String, RedisArgument> = [:],
        rest: [RedisArgument] = [],
        absentKey: String
    ) async throws -> RedisValue {
        var command: [RedisArgument] = ["EVALSHA", .string(script.sha1)]
        command.append(
            contentsOf: try script.operands(
                keys: keys,
                arguments: arguments,
                rest: rest,
                restKeys: restKeys,
                absentKey: absentKey
            )
        )
        do {
            return try await send(command, label: script.name)
        } catch let error as RedisError where error.code == .server && error.message.hasPrefix("NOSCRIPT") {
            command[0] = "EVAL"
            command[1] = .string(script.source)
            // Counted apart: a step still counts once under the script's name.
            return try await send(command, label: "EVAL")
        }
    }
}
