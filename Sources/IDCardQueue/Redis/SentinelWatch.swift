import IDCardContract
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Listens for the Sentinels' announcements about one master and passes each on as a ``Move``:
/// a replica about to be promoted (`+failover-state-send-slaveof-noone`, from the Sentinel
/// leading the failover, just before it sends `REPLICAOF NO ONE`), a replica promoted
/// (`+promoted-slave`) and the failover over (`+switch-master`). Connections then leave the old
/// master before their next command, rather than at the first `READONLY` or lost connection:
/// every write the old master takes after the promotion is lost when it rejoins as a replica, so
/// the sooner the better.
///
/// One Sentinel at a time, the next when it fails, half a second later. The first announcement
/// comes only from the Sentinel leading the failover (the one `SENTINEL FAILOVER` was sent to, for
/// a planned one); the others announce `+switch-master` once they learn of it. An announcement
/// missed while none answers is not lost for long: a demoted master answers writes with
/// `READONLY`, and a dead one breaks the connection, both of which lead to the new master too.
final class SentinelWatch: Sendable {
    private let sentinel: RedisConfiguration.Sentinel
    private let connector: RedisConnector
    private let onMove: @Sendable (Move) -> Void
    private let state = NIOLockedValueBox(State())
    static let channels = ["+failover-state-send-slaveof-noone", "+promoted-slave", "+switch-master"]

    private struct State {
        var listening: RedisChannel?
        var stopped = false
    }

    /// What the Sentinels announced.
    enum Move: Equatable, Sendable {
        /// The replica at `host`:`port` is being promoted this moment.
        case promoting(host: String, port: Int)
        /// The Sentinels name a new master: ask them where.
        case switched
    }

    init(
        sentinel: RedisConfiguration.Sentinel,
        timeoutSeconds: Double,
        tls: RedisConfiguration.TLS?,
        onMove: @escaping @Sendable (Move) -> Void
    ) {
        self.sentinel = sentinel
        self.connector = RedisConnector(
            eventLoop: MultiThreadedEventLoopGroup.singleton.next(),
            timeoutSeconds: timeoutSeconds,
            tls: tls
        )
        self.onMove = onMove
        connector.eventLoop.execute { self.listen(to: 0) }
    }

    /// Stops listening.
    func shutdown() async {
        let listening = state.withLockedValue { state in
            state.stopped = true
            return state.listening
        }
        listening?.close()
        try? await listening?.channel.closeFuture.get()
    }

    /// Subscribes on the Sentinel at `index` (modulo their number); when that connection fails or
    /// ends, on the next one.
    private func listen(to index: Int) {
        guard !state.withLockedValue({ $0.stopped }) else { return }
        let node = sentinel.nodes[index % sentinel.nodes.count]
        let master = sentinel.masterName
        let onMove = self.onMove
        connector.subscribe(
            host: node.host,
            port: node.port,
            login: RedisConnector.Login(username: sentinel.username, password: sentinel.password),
            to: Self.channels
        ) { channel, text in
            if let move = Self.move(channel: channel, text: text, master: master) { onMove(move) }
        }
        .flatMap { connection -> EventLoopFuture<Void> in
            let stopped = self.state.withLockedValue { state in
                if !state.stopped { state.listening = connection }
                return state.stopped
            }
            if stopped { connection.close() }
            return connection.channel.closeFuture
        }
        .whenComplete { _ in
            self.state.withLockedValue { $0.listening = nil }
            self.connector.eventLoop.scheduleTask(in: .milliseconds(500)) { self.listen(to: index + 1) }
        }
    }

    /// The move an announcement on `channel` means for `master`, if any.
    ///
    /// `+switch-master`: "<master> <old ip> <old port> <new ip> <new port>"; the others:
    /// "slave <ip:port> <ip> <port> @ <master> <master ip> <master port>".
    static func move(channel: String, text: String, master: String) -> Move? {
        let words = text.split(separator: " ").map(String.init)
        if channel == "+switch-master" { return words.first == master ? .switched : nil }
        guard let at = words.firstIndex(of: "@"), words.indices.contains(at + 1), words[at + 1] == master else {
            return nil
        }
        if channel == "+failover-state-send-slaveof-noone", words.count > 3, words[0] == "slave",
            let port = Int(words[3])
        {
            return .promoting(host: words[2], port: port)
        }
        return .switched
    }
}
