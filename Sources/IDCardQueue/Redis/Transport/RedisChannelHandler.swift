import DequeModule
import NIOCore
import NIOSSL

/// The Redis protocol on one NIO channel: commands go out in order, and each reply read comes
/// back to the promise of the command it answers, the oldest first.
///
/// One batch is on the wire at a time: commands that come while replies are awaited wait in the
/// ``RedisChannel``'s outbox, and go out together, in one write, when the last of those replies is
/// in. Under load a write thus carries every step queued during a round trip — the fewest system
/// calls and wake-ups, here and in Redis — while a command on an idle connection goes at once.
///
/// A reply not begun within the read timeout fails every command still waiting and closes the
/// connection: a server that stopped answering (a frozen VM, a partition) is not waited on for
/// ever. A subscribed connection has no commands waiting; every value it reads is a message and
/// goes to the subscriber.
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Never
    typealias OutboundOut = ByteBuffer

    /// What a connection read that no command waits for: a subscription's confirmations and messages.
    typealias Subscriber = (RedisValue) -> Void

    private let reader: RedisReplyReader
    private let readTimeout: TimeAmount
    private let subscriber: Subscriber?
    private var waiting = Deque<ReplyTarget>()
    /// A command and who waits for its reply; `nil`: nobody (a subscription's `SUBSCRIBE`).
    typealias Command = (arguments: [RedisArgument], reply: ReplyTarget?)
    /// The commands queued since the last batch (``RedisChannel``'s outbox); none marks the
    /// connection idle.
    var nextBatch: () -> [Command] = { [] }

    /// Who waits for a reply: a task, or a future (the steps that open a connection).
    enum ReplyTarget {
        case continuation(CheckedContinuation<RedisValue, any Error>)
        case promise(EventLoopPromise<RedisValue>)

        func succeed(_ value: RedisValue) {
            switch self {
            case .continuation(let continuation): continuation.resume(returning: value)
            case .promise(let promise): promise.succeed(value)
            }
        }

        func fail(_ error: RedisError) {
            switch self {
            case .continuation(let continuation): continuation.resume(throwing: error)
            case .promise(let promise): promise.fail(error)
            }
        }
    }
    private var context: ChannelHandlerContext?
    /// When the oldest waiting command last saw progress: its write, or any byte read since.
    private var lastProgress = NIODeadline.now()
    private var timeoutCheck: Scheduled<Void>?
    /// Why the connection ended, for the commands that come too late.
    private var ended: RedisError?
    /// Told when the connection ends without being asked to, or with commands still waiting: the
    /// server may have restarted, failed over or lost what it was sent, whether or not a reply was
    /// due (``RedisClient/brokenConnections``).
    var onBreak: () -> Void = {}
    /// Told at each write: a round trip.
    var onWrite: () -> Void = {}
    /// Close once no command waits any more (``closeWhenAnswered()``).
    private var closing = false

    init(readTimeout: TimeAmount, subscriber: Subscriber? = nil) throws(RedisError) {
        self.reader = try RedisReplyReader()
        self.readTimeout = readTimeout
        self.subscriber = subscriber
    }

    /// Writes what the outbox holds as one batch, unless a batch is on the wire: the last reply to
    /// that one calls this again. On a connection that has ended, the commands fail at once.
    func writeNext() {
        guard waiting.isEmpty else { return }
        let batch = nextBatch()
        guard !batch.isEmpty else { return }
        guard let context, ended == nil else {
            let error = ended ?? .connection("connection lost")
            for entry in batch { entry.reply?.fail(error) }
            return writeNext()
        }
        var buffer = context.channel.allocator.buffer(
            capacity: batch.reduce(0) { total, entry in
                entry.arguments.reduce(total + 16) { $0 + $1.byteCount + 16 }
            }
        )
        for entry in batch {
            buffer.writeRedisCommand(entry.arguments)
            if let reply = entry.reply { waiting.append(reply) }
        }
        lastProgress = .now()
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        onWrite()
        // Nothing to wait for (a subscription's commands): the next batch may go at once.
        if waiting.isEmpty { writeNext() }
    }

    /// Takes no more commands, and closes once the ones sent have their replies: the master moved,
    /// and what was written to the old one still deserves its answer.
    func closeWhenAnswered() {
        guard let context, ended == nil else { return }
        // What is queued from now on fails unsent, and the client sends it again (RedisClient).
        ended = .leftUnsent
        closing = true
        if waiting.isEmpty { context.close(promise: nil) }
    }

    /// Closes the connection now: the client is shutting down, or the connection served its one
    /// purpose. Not a break, unless commands were still waiting.
    func close() {
        closing = true
        context?.close(promise: nil)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        scheduleTimeoutCheck(on: context.eventLoop)
    }

    /// Looks at the oldest waiting command every quarter second (or read timeout, if shorter).
    private func scheduleTimeoutCheck(on eventLoop: any EventLoop) {
        timeoutCheck = eventLoop.assumeIsolated().scheduleTask(in: min(readTimeout, .milliseconds(250))) {
            [weak self] in
            guard let self, self.context != nil else { return }
            self.checkReadTimeout()
            self.scheduleTimeoutCheck(on: eventLoop)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        end(.connection("connection closed"))
        timeoutCheck?.cancel()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastProgress = .now()
        do throws(RedisError) {
            try reader.feed(unwrapInboundIn(data))
            while let value = try reader.next() {
                if let reply = waiting.popFirst() {
                    reply.succeed(value)
                    if closing && waiting.isEmpty { context.close(promise: nil) }
                } else {
                    subscriber?(value)
                }
            }
            if waiting.isEmpty { writeNext() }
        } catch {
            fail(error, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(.connection("connection lost"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is NIOSSLError || error is NIOSSLExtraError {
            fail(
                .connection(
                    """
                    TLS failed (check the CA file, the server's certificate and the name it must \
                    carry): \(error)
                    """
                ),
                context: context
            )
        } else {
            fail(.connection("\(error)"), context: context)
        }
    }

    private func checkReadTimeout() {
        guard let context, !waiting.isEmpty, NIODeadline.now() - lastProgress > readTimeout else { return }
        fail(.connection("no reply within \(Self.seconds(readTimeout)) s"), context: context)
    }

    private func fail(_ error: RedisError, context: ChannelHandlerContext) {
        end(error)
        context.close(promise: nil)
    }

    /// Fails every waiting command: each may or may not have run, as with any command whose reply
    /// was lost.
    private func end(_ error: RedisError) {
        let first = ended == nil
        if first { ended = error }
        if !waiting.isEmpty || (first && !closing) { onBreak() }
        while let reply = waiting.popFirst() { reply.fail(error) }
        // And those queued for the next batch.
        writeNext()
    }

    private static func seconds(_ amount: TimeAmount) -> String {
        String(Double(amount.nanoseconds) / 1e9)
    }
}
