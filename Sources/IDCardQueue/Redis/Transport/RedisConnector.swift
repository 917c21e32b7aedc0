import NIOCore
import NIOPosix
import NIOSSL

/// Opens connections to Redis servers: TCP, TLS when configured, then the log-in.
///
/// What ``RedisConnection`` and ``SentinelWatch`` share; it holds no connection itself.
struct RedisConnector: Sendable {
    let eventLoop: any EventLoop
    let timeout: TimeAmount
    let tls: RedisConfiguration.TLS?

    init(eventLoop: any EventLoop, timeoutSeconds: Double, tls: RedisConfiguration.TLS?) {
        self.eventLoop = eventLoop
        self.timeout = .milliseconds(Int64(timeoutSeconds * 1000))
        self.tls = tls
    }

    /// Who to log in as on a server: a master's credentials and database, or a Sentinel's.
    struct Login: Sendable {
        var username: String?
        var password: String?
        var database = 0
    }

    /// A connection to `host`:`port`, logged in. Replies must begin within `readTimeout`;
    /// `subscriber` gets every value no command waits for.
    func open(
        host: String,
        port: Int,
        login: Login,
        readTimeout: TimeAmount,
        subscriber: (@Sendable (RedisValue) -> Void)? = nil,
        events: RedisChannel.Events = .init()
    ) -> EventLoopFuture<RedisChannel> {
        let context: NIOSSLContext?
        do {
            context = try tls?.makeContext()
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let serverName = tls?.serverName ?? (Self.isIPAddress(host) ? nil : host)
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                do {
                    let operations = channel.pipeline.syncOperations
                    if let context {
                        try operations.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName))
                    }
                    try operations.addHandler(RedisChannelHandler(readTimeout: readTimeout, subscriber: subscriber))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .connect(host: host, port: port)
            .flatMapErrorThrowing { error in
                throw RedisError.connection("\(Self.address(host, port)): \(error)")
            }
            .flatMapThrowing { channel in
                RedisChannel(
                    channel: channel,
                    handler: try channel.pipeline.syncOperations.handler(type: RedisChannelHandler.self),
                    events: events
                )
            }
            .flatMap { connection in logIn(connection, login).map { connection } }
    }

    /// AUTH and SELECT, as `login` says; on a refusal the connection is closed.
    private func logIn(_ connection: RedisChannel, _ login: Login) -> EventLoopFuture<Void> {
        var commands: [[RedisArgument]] = []
        if let password = login.password {
            commands.append(
                login.username.map { ["AUTH", .string($0), .string(password)] } ?? ["AUTH", .string(password)]
            )
        }
        if login.database != 0 { commands.append(["SELECT", .int(login.database)]) }
        let replies = commands.map { command in
            connection.sendFuture(command).flatMapThrowing { reply in
                // Never echo the command: it carries the password.
                if case .error(let message) = reply {
                    throw RedisError.server("\(command[0]) failed: \(message)")
                }
            }
        }
        return EventLoopFuture.andAllSucceed(replies, on: eventLoop).flatMapError { error in
            connection.close()
            return eventLoop.makeFailedFuture(error)
        }
    }

    static func address(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    private static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}
