import IDCardContract
import NIOConcurrencyHelpers
import NIOPosix

/// Listens for the Sentinels' announcements about one master, on a thread of its own, and
/// passes each on as a ``Move``: a replica about to be promoted
/// (`+failover-state-send-slaveof-noone`, from the Sentinel leading the failover, just before
/// it sends `REPLICAOF NO ONE`), a replica promoted (`+promoted-slave`) and the failover over
/// (`+switch-master`). Connections then leave the old master before their next command, rather
/// than at the first `READONLY` or lost connection: every write the old master takes after the
/// promotion is lost when it rejoins as a replica, so the sooner the better.
///
/// One Sentinel at a time, the next when it fails. The first announcement comes only from the
/// Sentinel leading the failover (the one `SENTINEL FAILOVER` was sent to, for a planned one);
/// the others announce `+switch-master` once they learn of it. An announcement missed while none
/// answers is not lost for long: a demoted master answers writes with `READONLY`, and a dead one
/// breaks the connection, both of which lead to the new master too.
final class SentinelWatch: Sendable {
    private let sentinel: RedisConfiguration.Sentinel
    private let timeoutSeconds: Double
    private let onMove: @Sendable (Move) -> Void
    private let thread = NIOThreadPool(numberOfThreads: 1)
    private let stopped = NIOLockedValueBox(false)
    static let channels = ["+failover-state-send-slaveof-noone", "+promoted-slave", "+switch-master"]

    /// What the Sentinels announced.
    enum Move: Equatable, Sendable {
        /// The replica at `host`:`port` is being promoted this moment.
        case promoting(host: String, port: Int)
        /// The Sentinels name a new master: ask them where.
        case switched
    }

    init(sentinel: RedisConfiguration.Sentinel, timeoutSeconds: Double, onMove: @escaping @Sendable (Move) -> Void) {
        self.sentinel = sentinel
        self.timeoutSeconds = timeoutSeconds
        self.onMove = onMove
        thread.start()
        thread.submit { [self] state in
            guard case .active = state else { return }
            watch()
        }
    }

    /// Stops listening; returns within about a second.
    func shutdown() async {
        stopped.withLockedValue { $0 = true }
        try? await thread.shutdownGracefully()
    }

    private var isStopped: Bool { stopped.withLockedValue { $0 } }

    private func watch() {
        var next = 0
        while !isStopped {
            let node = sentinel.nodes[next % sentinel.nodes.count]
            next += 1
            let configuration = RedisConfiguration(
                host: node.host,
                port: node.port,
                username: sentinel.username,
                password: sentinel.password,
                timeoutSeconds: timeoutSeconds
            )
            let connection = RedisConnection(configuration: configuration, readTimeoutSeconds: 1)
            do {
                try connection.listen(to: Self.channels, shouldStop: { isStopped }) { channel, text in
                    if let move = Self.move(channel: channel, text: text, master: sentinel.masterName) { onMove(move) }
                }
            } catch {
                // This Sentinel is away: the next one, after a pause.
                for _ in 0..<5 where !isStopped { usleep(100_000) }
            }
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
