import NIOConcurrencyHelpers
import NIOCore

/// One open connection to a Redis server, usable from any task.
///
/// Commands sent from many tasks queue in an outbox. While a batch is on the wire, nothing else is
/// written and nobody wakes the event loop: when the batch's last reply is in, the
/// ``RedisChannelHandler`` takes everything queued meanwhile and writes it as the next batch, in
/// one buffer (automatic pipelining). Under load a round trip thus carries many jobs' steps, and
/// its system calls and wake-ups are shared; a command on an idle connection goes at once.
final class RedisChannel: Sendable {
    let channel: any Channel
    private let handler: NIOLoopBound<RedisChannelHandler>
    private let outbox: NIOLockedValueBox<Outbox>

    struct Outbox {
        var queued: [RedisChannelHandler.Command] = []
        /// A batch is on the wire, or the event loop was asked to write one: commands queued now
        /// go with the next batch, taken when the replies are in.
        var busy = false

        /// Everything queued; when nothing is, the connection is idle from now on.
        mutating func takeAll() -> [RedisChannelHandler.Command] {
            let batch = queued
            queued.removeAll(keepingCapacity: true)
            if batch.isEmpty { busy = false }
            return batch
        }
    }

    /// What a client counts: each write (a round trip), and each break (``RedisChannelHandler/onBreak``).
    struct Events: Sendable {
        var wrote: @Sendable () -> Void = {}
        var broke: @Sendable () -> Void = {}
    }

    /// Runs on `channel`'s event loop.
    init(channel: any Channel, handler: RedisChannelHandler, events: Events) {
        let outbox = NIOLockedValueBox(Outbox())
        self.channel = channel
        self.outbox = outbox
        self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        handler.onBreak = events.broke
        handler.onWrite = events.wrote
        handler.nextBatch = { outbox.withLockedValue { $0.takeAll() } }
    }

    var isActive: Bool { channel.isActive }

    /// Sends one command and waits for its reply (an error reply is a value, not a failure).
    func send(_ arguments: [RedisArgument]) async throws -> RedisValue {
        try await withCheckedThrowingContinuation { continuation in
            enqueue((arguments, .continuation(continuation)))
        }
    }

    /// Sends `ASKING` and then the command, back to back, and waits for the command's reply: what a
    /// cluster node's `ASK` redirect asks for (the slot is being migrated to this node).
    func sendAsking(_ arguments: [RedisArgument]) async throws -> RedisValue {
        let asking = channel.eventLoop.makePromise(of: RedisValue.self)
        return try await withCheckedThrowingContinuation { continuation in
            enqueue((["ASKING"], .promise(asking)), (arguments, .continuation(continuation)))
        }
    }

    /// Sends one command; the future holds its reply. For the steps that open a connection.
    func sendFuture(_ arguments: [RedisArgument]) -> EventLoopFuture<RedisValue> {
        let reply = channel.eventLoop.makePromise(of: RedisValue.self)
        enqueue((arguments, .promise(reply)))
        return reply.futureResult
    }

    /// Sends a command no reply is awaited for: `SUBSCRIBE` on a subscribed connection, whose
    /// replies go to its subscriber.
    func sendUnanswered(_ arguments: [RedisArgument]) {
        enqueue((arguments, nil))
    }

    /// Closes the connection; commands waiting on it fail.
    func close() {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.close() }
    }

    /// Closes the connection once every command sent on it has its reply.
    func closeWhenAnswered() {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.closeWhenAnswered() }
    }

    /// Queues `commands` back to back: no other task's command goes between them.
    private func enqueue(_ commands: RedisChannelHandler.Command...) {
        let wake = outbox.withLockedValue { outbox in
            outbox.queued.append(contentsOf: commands)
            defer { outbox.busy = true }
            return !outbox.busy
        }
        guard wake else { return }
        let handler = self.handler
        channel.eventLoop.execute { handler.value.writeNext() }
    }
}
