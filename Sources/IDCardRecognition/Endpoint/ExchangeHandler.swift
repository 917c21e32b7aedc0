import NIOCore
import NIOHTTP1

/// The last handler of an ``EndpointClient`` connection: one request and its answer at a time.
///
/// A one-chunk body goes out with its head and end in one flush: one syscall and one segment for
/// a card's form. A longer body is written a chunk at a time, the next one escaped only once the
/// previous is written, so a job never holds its whole escaped image. The exchange fails at its
/// deadline, on cancellation, past the answer's size cap, or when the connection ends first; each
/// of those closes the connection, as does an answer nobody asked for.
final class ExchangeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    struct Answer: Sendable {
        var status: UInt
        var body: ByteBuffer
        /// A complete keep-alive answer to a request fully written: the connection can carry another.
        var reusable: Bool
    }

    /// Nothing of the request was written: safe to send it again on another connection.
    struct NotSent: Error {
        /// What closed the connection before the request came, if known: a new connection's
        /// failed TLS handshake is the answer its caller needs.
        var cause: (any Error)?
    }

    /// The exchange failed before a complete answer, for `cause` (the connection, the deadline,
    /// cancellation, the size cap).
    struct Failed: Error {
        var cause: any Error
        /// The whole request had been written: the server may have acted on it.
        var requestWritten: Bool
        /// Part of an answer had come: the server had the request.
        var answered: Bool
    }

    private struct Exchange {
        let promise: EventLoopPromise<Answer>
        let maxBytes: Int
        var deadline: Scheduled<Void>?
        var requestWritten = false
        var status: UInt = 0
        var answered = false
        var keepAlive = false
        var body: ByteBuffer?
    }

    private var exchange: Exchange?
    private var context: ChannelHandlerContext?
    private var closedBy: (any Error)?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Writes a request; its answer, or why there is none, completes `promise`. On the event loop.
    /// `sent` runs once the head has been written.
    func send<Body: IteratorProtocol<ByteBuffer>>(
        head: HTTPRequestHead,
        body: Body,
        maxBytes: Int,
        deadline: NIODeadline,
        sent: (@Sendable () -> Void)?,
        promise: EventLoopPromise<Answer>
    ) {
        guard let context, context.channel.isActive, exchange == nil else {
            promise.fail(NotSent(cause: closedBy))
            return
        }
        let timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            fail(EndpointError.deadlineExceeded)
        }
        exchange = Exchange(promise: promise, maxBytes: maxBytes, deadline: timer)
        let headWritten = context.eventLoop.makePromise(of: Void.self)
        if let sent { headWritten.futureResult.whenSuccess { sent() } }
        context.write(wrapOutboundOut(.head(head)), promise: headWritten)
        var body = body
        write(body.next(), then: body, context: context)
    }

    /// Fails the exchange in flight, if any, with `CancellationError`.
    func cancel() {
        fail(CancellationError())
    }

    private func write<Body: IteratorProtocol<ByteBuffer>>(
        _ chunk: ByteBuffer?,
        then rest: Body,
        context: ChannelHandlerContext
    ) {
        var rest = rest
        let chunkWritten = context.eventLoop.makePromise(of: Void.self)
        if let chunk {
            context.write(wrapOutboundOut(.body(.byteBuffer(chunk))), promise: chunkWritten)
        } else {
            chunkWritten.succeed()
        }
        guard let next = rest.next() else {
            let ended = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: ended)
            ended.futureResult.assumeIsolated().whenSuccess { [self] in exchange?.requestWritten = true }
            return
        }
        context.flush()
        // A failed write fails the exchange through errorCaught or channelInactive.
        chunkWritten.futureResult.assumeIsolated().whenSuccess { [self] in write(next, then: rest, context: context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard exchange != nil else {
            context.close(promise: nil)
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            exchange?.answered = true
            exchange?.status = head.status.code
            exchange?.keepAlive = head.isKeepAlive
        case .body(var part):
            let held = exchange?.body?.readableBytes ?? 0
            guard held + part.readableBytes <= exchange?.maxBytes ?? 0 else {
                fail(EndpointError.answerTooLarge)
                return
            }
            if exchange?.body == nil {
                exchange?.body = part
            } else {
                exchange?.body?.writeBuffer(&part)
            }
        case .end:
            guard let done = exchange else { return }
            exchange = nil
            done.deadline?.cancel()
            let reusable = done.keepAlive && done.requestWritten
            if !reusable { context.close(promise: nil) }
            done.promise.succeed(Answer(status: done.status, body: done.body ?? ByteBuffer(), reusable: reusable))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(EndpointError.closedBeforeAnswer)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closedBy = closedBy ?? error
        fail(error)
        context.close(promise: nil)
    }

    private func fail(_ error: any Error) {
        guard let done = exchange else { return }
        exchange = nil
        done.deadline?.cancel()
        context?.close(promise: nil)
        done.promise.fail(Failed(cause: error, requestWritten: done.requestWritten, answered: done.answered))
    }
}
