import NIOConcurrencyHelpers
import NIOCore

extension RedisConnector {
    /// A connection subscribed to `channels`: each message's channel and text go to `message`, on
    /// the event loop, until the connection is closed (by the caller, or broken: its close future
    /// says when). `subscribed` is called once the server has confirmed every channel: from then on
    /// no message is missed, so a caller can look at the state it waits for, then wait for a message.
    func subscribe(
        host: String,
        port: Int,
        login: Login,
        to channels: [String],
        subscribed: @escaping @Sendable () -> Void = {},
        message: @escaping @Sendable (_ channel: String, _ text: String) -> Void
    ) -> EventLoopFuture<RedisChannel> {
        let confirmed = NIOLockedValueBox(0)
        let subscriber: @Sendable (RedisValue) -> Void = { value in
            guard let parts = value.array, let kind = parts.first?.string else { return }
            if kind == "message", parts.count == 3, let channel = parts[1].string, let text = parts[2].string {
                message(channel, text)
            } else if kind == "subscribe" {
                if confirmed.withLockedValue({ count in
                    count += 1
                    return count == channels.count
                }) {
                    subscribed()
                }
            }
        }
        // Only the log-in waits for replies: a subscribed connection is silent until something
        // happens, and TCP keep-alive finds a peer that vanished.
        return open(host: host, port: port, login: login, readTimeout: timeout, subscriber: subscriber)
            .map { connection in
                connection.sendUnanswered(["SUBSCRIBE"] + channels.map { .string($0) })
                return connection
            }
    }
}
