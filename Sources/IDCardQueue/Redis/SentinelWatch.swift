import NIOConcurrencyHelpers
import NIOPosix

/// Listens for the Sentinels' announcements that a replica of one master was promoted
/// (`+promoted-slave`, when they start naming it as the master) and that the failover is over
/// (`+switch-master`), on a thread of its own, and calls `onSwitch` for each: connections to the
/// old master are dropped before their next command, rather than at the first `READONLY` or lost
/// connection. Every write the old master takes after the promotion is lost when it rejoins as a
/// replica, so the sooner the better.
///
/// One Sentinel at a time, the next when it fails. An announcement missed while none answers is
/// not lost for long: a demoted master answers writes with `READONLY`, and a dead one breaks the
/// connection, both of which lead to the new master too.
final class SentinelWatch: Sendable {
    private let sentinel: RedisConfiguration.Sentinel
    private let timeoutSeconds: Double
    private let onSwitch: @Sendable () -> Void
    private let thread = NIOThreadPool(numberOfThreads: 1)
    private let stopped = NIOLockedValueBox(false)
    static let channels = ["+promoted-slave", "+switch-master"]

    init(sentinel: RedisConfiguration.Sentinel, timeoutSeconds: Double, onSwitch: @escaping @Sendable () -> Void) {
        self.sentinel = sentinel
        self.timeoutSeconds = timeoutSeconds
        self.onSwitch = onSwitch
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
                host: node.host, port: node.port, username: sentinel.username, password: sentinel.password, timeoutSeconds: timeoutSeconds
            )
            let connection = RedisConnection(configuration: configuration, readTimeoutSeconds: 1)
            do {
                try connection.listen(to: Self.channels, shouldStop: { isStopped }) { channel, text in
                    let words = text.split(separator: " ").map(String.init)
                    // +switch-master: "<master> <old ip> <old port> <new ip> <new port>";
                    // +promoted-slave: "slave <ip:port> <ip> <port> @ <master> <ip> <port>".
                    let master = channel == "+switch-master" ? words.first : words.firstIndex(of: "@").flatMap { words.indices.contains($0 + 1) ? words[$0 + 1] : nil }
                    if master == sentinel.masterName { onSwitch() }
                }
            } catch {
                // This Sentinel is away: the next one, after a pause.
                for _ in 0..<5 where !isStopped { usleep(100_000) }
            }
        }
    }
}
