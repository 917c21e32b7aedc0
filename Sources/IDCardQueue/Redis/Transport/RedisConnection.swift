import NIOConcurrencyHelpers
import NIOCore

/// The connection one ``RedisClient`` sends on: opened at the first command, opened again after it
/// broke, was dropped for a new master, or the Sentinels announced a promotion.
///
/// Nothing here blocks: connecting, logging in and asking the Sentinels are futures on the
/// client's event loop; every command waiting while a connection opens goes out on it.
final class RedisConnection: Sendable {
    let configuration: RedisConfiguration
    let connector: RedisConnector
    /// How long a reply may take to begin; blocking commands (BRPOP) need one longer than their own
    /// timeout.
    let readTimeout: TimeAmount
    private let state = NIOLockedValueBox(State.idle)
    /// A replica the Sentinels are promoting, to connect to as soon as it says it is the master
    /// (``followPromotion(host:port:)``).
    let promotion = NIOLockedValueBox<Promotion?>(nil)
    let events: RedisChannel.Events

    private enum State {
        case idle
        case connecting(EventLoopFuture<RedisChannel>)
        case ready(RedisChannel)
        case closed
    }

    struct Promotion {
        var host: String
        var port: Int
        /// When to give up waiting for it and ask the Sentinels again (the failover failed).
        var until: NIODeadline
    }

    /// How long a promotion announced by ``followPromotion(host:port:)`` is waited for.
    static let promotionWait = TimeAmount.seconds(2)

    init(
        configuration: RedisConfiguration,
        eventLoop: any EventLoop,
        readTimeoutSeconds: Double,
        events: RedisChannel.Events = .init()
    ) {
        self.configuration = configuration
        self.connector = RedisConnector(
            eventLoop: eventLoop,
            timeoutSeconds: configuration.timeoutSeconds,
            tls: configuration.tls
        )
        self.readTimeout = .milliseconds(Int64(readTimeoutSeconds * 1000))
        self.events = events
    }

    var eventLoop: any EventLoop { connector.eventLoop }

    /// The server connected to (with Sentinel, the address configured, not the master's).
    var node: RedisConfiguration.Node { RedisConfiguration.Node(host: configuration.host, port: configuration.port) }

    /// The open connection, if there is one: what nearly every command goes out on, with no hop.
    var openChannel: RedisChannel? {
        state.withLockedValue { state in
            if case .ready(let channel) = state, channel.isActive { return channel }
            return nil
        }
    }

    /// The open connection, or one being opened for the command about to be sent.
    func channel() -> EventLoopFuture<RedisChannel> {
        enum Next {
            case use(EventLoopFuture<RedisChannel>)
            case open(EventLoopPromise<RedisChannel>)
        }
        let next = state.withLockedValue { state -> Next in
            switch state {
            case .ready(let channel) where channel.isActive: return .use(eventLoop.makeSucceededFuture(channel))
            case .connecting(let opening): return .use(opening)
            case .closed: return .use(eventLoop.makeFailedFuture(RedisError.closed))
            case .idle, .ready:
                let promise = eventLoop.makePromise(of: RedisChannel.self)
                state = .connecting(promise.futureResult)
                return .open(promise)
            }
        }
        switch next {
        case .use(let future): return future
        case .open(let promise):
            // Outside the lock: the callbacks below may run at once, on this thread.
            open().whenComplete { result in
                let channel = try? result.get()
                // The commands waiting for it fail: a break, as when a connection is lost.
                if case .failure(let error as RedisError) = result, error.code == .connection { self.events.broke() }
                let kept = self.state.withLockedValue { state -> Bool in
                    guard case .connecting(let opening) = state, opening === promise.futureResult else { return false }
                    state = channel.map { .ready($0) } ?? .idle
                    return true
                }
                guard kept else {
                    // Dropped (the master moved) or closed while it opened: the commands waiting
                    // for it go on the next connection, or fail if the client is closed.
                    channel?.close()
                    promise.completeWith(self.channel())
                    return
                }
                if let channel { channel.channel.closeFuture.whenComplete { _ in self.forget(channel) } }
                promise.completeWith(result)
            }
            return promise.futureResult
        }
    }

    private func open() -> EventLoopFuture<RedisChannel> {
        if let sentinel = configuration.sentinel { return connectToMaster(of: sentinel) }
        return connector.open(
            host: configuration.host,
            port: configuration.port,
            login: masterLogin,
            readTimeout: readTimeout,
            events: events
        )
    }

    var masterLogin: RedisConnector.Login {
        RedisConnector.Login(
            username: configuration.username,
            password: configuration.password,
            database: configuration.database
        )
    }

    /// The connection closed: the next command opens another.
    private func forget(_ channel: RedisChannel) {
        state.withLockedValue { state in
            if case .ready(let current) = state, current === channel { state = .idle }
        }
    }

    /// Has the next command start on a new connection: the master moved. Commands already sent
    /// on the old one still get their replies; it closes once they have.
    func dropSoon() {
        let old = state.withLockedValue { state -> RedisChannel? in
            switch state {
            case .ready(let channel):
                state = .idle
                return channel
            case .connecting:
                state = .idle  // its connection is closed when it opens
                return nil
            case .idle, .closed:
                return nil
            }
        }
        old?.closeWhenAnswered()
    }

    /// Has the next command leave the master for the replica at `host`:`port`, which a Sentinel is
    /// about to promote (`+failover-state-send-slaveof-noone`). The new connection waits until the
    /// replica says it is the master, at most ``promotionWait``: nothing is written to the old
    /// master from now on, where the writes would be lost when it rejoins as a replica. (The
    /// Sentinels name the new master only a second or so later.)
    func followPromotion(host: String, port: Int) {
        promotion.withLockedValue {
            $0 = Promotion(host: host, port: port, until: .now() + Self.promotionWait)
        }
        dropSoon()
    }

    /// Closes the connection for good: commands sent afterwards fail with ``RedisError/closed``.
    func close() async {
        let old = state.withLockedValue { state -> RedisChannel? in
            defer { state = .closed }
            if case .ready(let channel) = state { return channel }
            return nil
        }
        guard let old else { return }
        old.close()
        try? await old.channel.closeFuture.get()
    }
}
