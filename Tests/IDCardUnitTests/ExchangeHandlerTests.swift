import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import IDCardRecognition

/// The rules of one HTTP exchange on a connection to the API, on an `EmbeddedChannel`: what is
/// written, when a connection may carry another call, and how each way of failing is reported.
@Suite("One HTTP exchange, on an embedded channel")
struct ExchangeHandlerTests {
    /// A connected channel with the handler, and the answer's future.
    struct Exchange {
        let channel: EmbeddedChannel
        let handler: ExchangeHandler
        let answer: EventLoopFuture<ExchangeHandler.Answer>
        /// Set once the request's head was written.
        let sent: NIOLockedValueBox<Bool>

        /// What completed the answer: it completes synchronously on an embedded loop.
        var outcome: Result<ExchangeHandler.Answer, any Error>? {
            var outcome: Result<ExchangeHandler.Answer, any Error>?
            answer.assumeIsolated().whenComplete { outcome = $0 }
            return outcome
        }

        func read(_ part: HTTPClientResponsePart) throws { try channel.writeInbound(part) }

        /// The request parts written so far.
        func written() throws -> [HTTPClientRequestPart] {
            var parts: [HTTPClientRequestPart] = []
            while let part = try channel.readOutbound(as: HTTPClientRequestPart.self) { parts.append(part) }
            return parts
        }
    }

    static func send(
        chunks: [String] = ["imgData=abc"],
        maxBytes: Int = 1024,
        deadline: TimeAmount = .seconds(5)
    ) throws -> Exchange {
        let handler = ExchangeHandler()
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let promise = channel.eventLoop.makePromise(of: ExchangeHandler.Answer.self)
        let sent = NIOLockedValueBox(false)
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/1429-1")
        handler.send(
            head: head,
            body: chunks.map { ByteBuffer(string: $0) }.makeIterator(),
            maxBytes: maxBytes,
            deadline: channel.eventLoop.now + deadline,
            sent: { sent.withLockedValue { $0 = true } },
            promise: promise
        )
        return Exchange(channel: channel, handler: handler, answer: promise.futureResult, sent: sent)
    }

    static func head(_ status: HTTPResponseStatus = .ok, close: Bool = false) -> HTTPClientResponsePart {
        var headers = HTTPHeaders()
        if close { headers.add(name: "Connection", value: "close") }
        return .head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))
    }

    static func failure(_ exchange: Exchange) -> ExchangeHandler.Failed? {
        guard case .failure(let error)? = exchange.outcome else { return nil }
        return error as? ExchangeHandler.Failed
    }

    @Test("a one-chunk body goes out with its head and end; a keep-alive answer leaves the connection reusable")
    func keepAlive() throws {
        let exchange = try Self.send()
        let parts = try exchange.written()
        #expect(parts.count == 3 && exchange.sent.withLockedValue { $0 })
        guard case .head = parts.first, case .body(.byteBuffer(let body)) = parts[1], case .end = parts.last else {
            Issue.record("not head, body, end: \(parts)")
            return
        }
        #expect(String(buffer: body) == "imgData=abc")
        try exchange.read(Self.head())
        try exchange.read(.body(ByteBuffer(string: #"{"showapi_res_code":0}"#)))
        try exchange.read(.end(nil))
        let answer = try #require(try exchange.outcome?.get())
        #expect(answer.status == 200 && answer.reusable && String(buffer: answer.body) == #"{"showapi_res_code":0}"#)
        #expect(exchange.channel.isActive)
    }

    @Test("an answer saying Connection: close is not reused, and the connection is closed")
    func connectionClose() throws {
        let exchange = try Self.send()
        _ = try exchange.written()
        try exchange.read(Self.head(.serviceUnavailable, close: true))
        try exchange.read(.end(nil))
        let answer = try #require(try exchange.outcome?.get())
        #expect(answer.status == 503 && !answer.reusable)
        #expect(!exchange.channel.isActive)
    }

    @Test("a longer body is written a chunk at a time, in order")
    func chunks() throws {
        let exchange = try Self.send(chunks: ["a", "b", "c"])
        let bodies = try exchange.written().compactMap { part -> String? in
            if case .body(.byteBuffer(let buffer)) = part { return String(buffer: buffer) }
            return nil
        }
        #expect(bodies == ["a", "b", "c"])
    }

    @Test("an answer past the size cap fails the exchange and closes the connection")
    func sizeCap() throws {
        let exchange = try Self.send(maxBytes: 8)
        _ = try exchange.written()
        try exchange.read(Self.head())
        try exchange.read(.body(ByteBuffer(string: "123456789")))
        let failed = try #require(Self.failure(exchange))
        #expect(failed.cause as? EndpointError == .answerTooLarge && failed.requestWritten && failed.answered)
        #expect(!exchange.channel.isActive)
    }

    @Test("a connection that ends before the answer says the request was written and nothing came")
    func closedBeforeAnswer() throws {
        let exchange = try Self.send()
        _ = try exchange.written()
        try exchange.channel.close().wait()
        let failed = try #require(Self.failure(exchange))
        #expect(failed.cause as? EndpointError == .closedBeforeAnswer && failed.requestWritten && !failed.answered)
    }

    @Test("the deadline fails the exchange and closes the connection")
    func deadline() throws {
        let exchange = try Self.send(deadline: .seconds(2))
        _ = try exchange.written()
        (exchange.channel.eventLoop as! EmbeddedEventLoop).advanceTime(by: .seconds(1))
        #expect(exchange.outcome == nil)
        (exchange.channel.eventLoop as! EmbeddedEventLoop).advanceTime(by: .seconds(1))
        let failed = try #require(Self.failure(exchange))
        #expect(failed.cause as? EndpointError == .deadlineExceeded && !exchange.channel.isActive)
    }

    @Test("an answer nobody asked for closes the connection; a request on a closed one is not sent")
    func unsolicited() throws {
        let exchange = try Self.send()
        _ = try exchange.written()
        try exchange.read(Self.head())
        try exchange.read(.end(nil))
        try exchange.read(Self.head())
        #expect(!exchange.channel.isActive)
        let promise = exchange.channel.eventLoop.makePromise(of: ExchangeHandler.Answer.self)
        exchange.handler.send(
            head: HTTPRequestHead(version: .http1_1, method: .POST, uri: "/"),
            body: [ByteBuffer]().makeIterator(),
            maxBytes: 1,
            deadline: exchange.channel.eventLoop.now + .seconds(1),
            sent: nil,
            promise: promise
        )
        var notSent = false
        promise.futureResult.assumeIsolated().whenFailure { notSent = $0 is ExchangeHandler.NotSent }
        #expect(notSent)
    }
}
