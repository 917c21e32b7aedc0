import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Keep-alive HTTP/1.1 connections to one endpoint, for a recognizer that POSTs to the same URL
/// thousands of times a second.
///
/// Why not AsyncHTTPClient, which the process uses for everything else: it writes a request's
/// head and body with separate flushes, two syscalls and two TCP segments per call, a tenth of the
/// worker's CPU per job in `scripts/benchmark`. Here a card's form goes out in one write (see
/// ``ExchangeHandler``). It speaks only what a form POST to one API needs: no redirects, proxies,
/// HTTP/2 or cookies. TLS verifies the certificate chain and the host name, and sends SNI.
public final class EndpointClient: Sendable {
    public struct Configuration: Sendable {
        /// To connect (the TLS handshake then counts against the call's timeout); never past the call's deadline.
        public var connectTimeout: TimeAmount
        /// Idle connections older than this are closed, not reused: servers drop idle keep-alive
        /// connections, and a request written into one as it closes gets no answer.
        public var idleTimeout: TimeAmount
        /// A PEM file of the CA certificates to trust instead of the system's; `nil`: the system's.
        public var caFile: String?

        public init(
            connectTimeout: TimeAmount = .seconds(5),
            idleTimeout: TimeAmount = .seconds(30),
            caFile: String? = nil
        ) {
            self.connectTimeout = connectTimeout
            self.idleTimeout = idleTimeout
            self.caFile = caFile
        }
    }

    public struct Answer: Sendable {
        public var status: UInt
        public var body: ByteBuffer
    }

    /// The URL's path and query: the request target before a caller adds its own parameters.
    public let target: String
    private let host: String
    private let port: Int
    private let hostHeader: String
    private let configuration: Configuration
    private let sslContext: NIOSSLContext?
    private let group: any EventLoopGroup
    private let pool = NIOLockedValueBox(IdleConnections())

    /// A connection and its last handler, reachable from any thread.
    private struct Connection: Sendable {
        let channel: any Channel
        let exchange: NIOLoopBound<ExchangeHandler>
    }

    private struct IdleConnections {
        var connections: [(connection: Connection, since: NIODeadline)] = []
        var isShutDown = false
    }

    /// - Throws: ``EndpointError/invalidURL``, or ``EndpointError/trustRoots(path:)`` when the CA
    ///   file cannot be loaded: both configuration mistakes, for the process to report at start.
    public init(
        url: String,
        configuration: Configuration = Configuration(),
        group: any EventLoopGroup
    ) throws(EndpointError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty
        else { throw EndpointError.invalidURL }
        let isTLS = scheme == "https"
        let port = components.port ?? (isTLS ? 443 : 80)
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        self.target = components.percentEncodedQuery.map { path + "?" + $0 } ?? path
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        let bracketed = self.host.contains(":") ? "[\(self.host)]" : self.host
        self.hostHeader = components.port == nil ? bracketed : "\(bracketed):\(port)"
        self.port = port
        self.configuration = configuration
        self.group = group
        guard isTLS else {
            sslContext = nil
            return
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.applicationProtocols = ["http/1.1"]
        // Read here rather than by NIOSSL, which leaks its half-made context when the file is bad.
        if let caFile = configuration.caFile {
            guard let roots = try? NIOSSLCertificate.fromPEMFile(caFile), !roots.isEmpty else {
                throw EndpointError.trustRoots(path: caFile)
            }
            tls.trustRoots = .certificates(roots)
        }
        do {
            sslContext = try NIOSSLContext(configuration: tls)
        } catch {
            throw EndpointError.trustRoots(path: configuration.caFile ?? "the system's store")
        }
    }

    /// POSTs `body` (`length` bytes in all, in the chunks it yields) to `target` on this endpoint.
    ///
    /// The whole answer must arrive within `timeout`, connecting included, and be at most
    /// `maxBytes` long. `sent` runs on the connection's event loop once the head is written.
    /// - Throws: ``EndpointError``, a TLS or HTTP parsing error, or `CancellationError`.
    public func post<Body: IteratorProtocol<ByteBuffer> & Sendable>(
        _ target: String,
        headers: HTTPHeaders,
        body: Body,
        length: Int,
        timeout: TimeAmount,
        maxBytes: Int,
        sent: (@Sendable () -> Void)? = nil
    ) async throws -> Answer {
        try Task.checkCancellation()
        let deadline = NIODeadline.now() + timeout
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: target, headers: headers)
        head.headers.replaceOrAdd(name: "Host", value: hostHeader)
        head.headers.replaceOrAdd(name: "Content-Length", value: String(length))
        // A server closes an idle keep-alive connection when it likes, and a request can be on
        // its way as it does (a starved event loop sees the close late, even on a new connection).
        // The request goes again on a new connection when one closed before the request was
        // written whole (at most twice): a server acts on no request it did not get whole. Never
        // once it was: the server may have done, and billed, the work; that failure goes to the
        // caller as ``DeliveredWithoutAnswer``.
        var resends = 0
        while true {
            let (connection, isNew) = try await connection(deadline: deadline)
            do {
                let answer = try await exchange(
                    on: connection,
                    head: head,
                    body: body,
                    maxBytes: maxBytes,
                    deadline: deadline,
                    sent: sent
                )
                if answer.reusable { checkIn(connection) }
                return Answer(status: answer.status, body: answer.body)
            } catch let notSent as ExchangeHandler.NotSent {
                // Closed before a byte went out: once more, unless it closed for an error (a TLS
                // handshake failing says what to fix) or twice already.
                if let cause = notSent.cause, isNew { throw cause }
                if resends == 2 { throw notSent.cause ?? EndpointError.closedBeforeAnswer }
                resends += 1
            } catch let failed as ExchangeHandler.Failed {
                if failed.cause is CancellationError { throw CancellationError() }
                if failed.requestWritten { throw DeliveredWithoutAnswer(cause: failed.cause) }
                let closed = failed.cause as? EndpointError == .closedBeforeAnswer
                if !closed || failed.answered || resends == 2 { throw failed.cause }
                resends += 1
            }
        }
    }

    /// Closes the idle connections; calls still in flight finish on theirs, which then close.
    public func shutdown() async {
        let idle = pool.withLockedValue { pool in
            pool.isShutDown = true
            defer { pool.connections = [] }
            return pool.connections.map(\.connection.channel)
        }
        for channel in idle { try? await channel.close().get() }
    }

    private func exchange<Body: IteratorProtocol<ByteBuffer> & Sendable>(
        on connection: Connection,
        head: HTTPRequestHead,
        body: Body,
        maxBytes: Int,
        deadline: NIODeadline,
        sent: (@Sendable () -> Void)?
    ) async throws -> ExchangeHandler.Answer {
        let eventLoop = connection.channel.eventLoop
        let promise = eventLoop.makePromise(of: ExchangeHandler.Answer.self)
        eventLoop.execute {
            connection.exchange.value.send(
                head: head,
                body: body,
                maxBytes: maxBytes,
                deadline: deadline,
                sent: sent,
                promise: promise
            )
        }
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            eventLoop.execute { connection.exchange.value.cancel() }
        }
    }

    /// The most recently used idle connection still open and fresh, or a new one.
    private func connection(deadline: NIODeadline) async throws -> (Connection, isNew: Bool) {
        let now = NIODeadline.now()
        var stale: [any Channel] = []
        let reused = try pool.withLockedValue { pool throws(EndpointError) -> Connection? in
            guard !pool.isShutDown else { throw .shutDown }
            while let last = pool.connections.popLast() {
                if last.connection.channel.isActive && now - last.since < configuration.idleTimeout {
                    return last.connection
                }
                stale.append(last.connection.channel)
            }
            return nil
        }
        for channel in stale { channel.close(promise: nil) }
        if let reused { return (reused, false) }
        return (try await connect(deadline: deadline), true)
    }

    private func checkIn(_ connection: Connection) {
        let now = NIODeadline.now()
        let closing = pool.withLockedValue { pool -> [any Channel] in
            guard !pool.isShutDown else { return [connection.channel] }
            // The oldest are at the front: the busiest connections keep being reused from the back.
            let fresh =
                pool.connections.firstIndex { now - $0.since < configuration.idleTimeout } ?? pool.connections.endIndex
            let old = pool.connections[..<fresh].map(\.connection.channel)
            pool.connections.removeFirst(fresh)
            pool.connections.append((connection, now))
            return old
        }
        for channel in closing { channel.close(promise: nil) }
    }

    private func connect(deadline: NIODeadline) async throws -> Connection {
        let remaining = deadline - .now()
        guard remaining > .zero else { throw EndpointError.deadlineExceeded }
        let sslContext = sslContext
        // SNI and the certificate's name check take a host name; for an address NIOSSL checks the peer's.
        let serverHostname = host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : host
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(min(configuration.connectTimeout, remaining))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
        do {
            return try await bootstrap.connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let sslContext {
                        try pipeline.addHandler(
                            NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname)
                        )
                    }
                    try pipeline.addHTTPClientHandlers()
                    let exchange = ExchangeHandler()
                    try pipeline.addHandler(exchange)
                    return Connection(channel: channel, exchange: NIOLoopBound(exchange, eventLoop: channel.eventLoop))
                }
            }
        } catch ChannelError.connectTimeout {
            throw EndpointError.connectTimeout
        }
    }
}
