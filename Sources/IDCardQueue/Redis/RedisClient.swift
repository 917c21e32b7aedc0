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
    private let connection: RedisConnection
    private let scriptSHAs = NIOLockedValueBox<[String: String]>([:])
    private let counts: NIOLockedValueBox<Counts>

    private struct Counts {
        var commands: [String: Int] = [:]
        var roundTrips = 0
        var brokenConnections = 0
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

    /// - Parameter readTimeoutSeconds: how long one reply may take; longer than any blocking command's timeout.
    public init(configuration: RedisConfiguration, readTimeoutSeconds: Double? = nil) {
        self.configuration = configuration
        let counts = NIOLockedValueBox(Counts())
        self.counts = counts
        self.connection = RedisConnection(
            configuration: configuration,
            eventLoop: MultiThreadedEventLoopGroup.singleton.next(),
            readTimeoutSeconds: readTimeoutSeconds ?? configuration.timeoutSeconds,
            events: RedisChannel.Events(
                wrote: { counts.withLockedValue { $0.roundTrips += 1 } },
                broke: { counts.withLockedValue { $0.brokenConnections += 1 } }
            )
        )
    }

    /// Has the next command start on a new connection: the master moved (`READONLY`, Sentinel's
    /// `+switch-master`). Counted as a broken connection: for a moment two servers took writes,
    /// and what this client did on the old one may not be on the new one.
    public func reconnectSoon() {
        counts.withLockedValue { $0.brokenConnections += 1 }
        connection.dropSoon()
    }

    /// Has the next command go to the replica a Sentinel is promoting, once it is the master
    /// (``RedisConnection/followPromotion(host:port:)``). Counted as a broken connection, as
    /// ``reconnectSoon()`` is.
    func followPromotion(host: String, port: Int) {
        counts.withLockedValue { $0.brokenConnections += 1 }
        connection.followPromotion(host: host, port: port)
    }

    /// Closes the connection. Commands sent afterwards fail with ``RedisError/closed``.
    public func shutdown() async {
        await connection.close()
    }

    /// Sends one command. An error reply throws ``RedisError/server(_:)``.
    public func send(_ arguments: [RedisArgument]) async throws -> RedisValue {
        try await send(arguments, label: arguments.first?.description ?? "")
    }

    private func send(_ arguments: [RedisArgument], label: String) async throws -> RedisValue {
        counts.withLockedValue { $0.commands[label, default: 0] += 1 }
        let channel: RedisChannel
        if let open = connection.openChannel {
            channel = open
        } else {
            channel = try await connection.channel().get()
        }
        let reply = try await channel.send(arguments)
        if case .error(let message) = reply {
            let error = RedisError.server(message)
            if error.needsReconnect { reconnectSoon() }
            throw error
        }
        return reply
    }

    public func send(_ arguments: RedisArgument...) async throws -> RedisValue {
        try await send(arguments)
    }

    /// Runs `script` with its keys and arguments by name (``RedisScript``), by its SHA-1, loading
    /// it first when Redis does not know it (first use, or after a Redis restart flushed the script
    /// cache). `absentKey` stands in for an optional key given as `nil`; `restKeys` are the
    /// script's `K.rest`.
    public func run(
        _ script: RedisScript,
        keys: KeyValuePairs<String, String?>,
        restKeys: [String] = [],
        arguments: KeyValuePairs<String, RedisArgument> = [:],
        rest: [RedisArgument] = [],
        absentKey: String
    ) async throws -> RedisValue {
        var command: [RedisArgument] = ["EVALSHA", ""]
        command.append(
            contentsOf: try script.operands(
                keys: keys,
                arguments: arguments,
                rest: rest,
                restKeys: restKeys,
                absentKey: absentKey
            )
        )
        for _ in 0..<3 {
            let sha = try await loadedSHA(of: script)
            command[1] = .string(sha)
            do {
                return try await send(command, label: script.name)
            } catch let error as RedisError where error.code == .server && error.message.hasPrefix("NOSCRIPT") {
                scriptSHAs.withLockedValue { $0[script.name] = nil }
            }
        }
        throw RedisError.server("NOSCRIPT after loading \(script.name) three times")
    }

    private func loadedSHA(of script: RedisScript) async throws -> String {
        if let sha = scriptSHAs.withLockedValue({ $0[script.name] }) { return sha }
        guard let sha = try await send("SCRIPT", "LOAD", .string(script.source)).string else {
            throw RedisError.unexpectedReply("SCRIPT LOAD of \(script.name) returned no SHA")
        }
        scriptSHAs.withLockedValue { $0[script.name] = sha }
        return sha
    }
}
