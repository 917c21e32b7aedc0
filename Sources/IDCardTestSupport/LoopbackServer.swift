import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import ServiceLifecycle

/// Runs a Hummingbird router on 127.0.0.1 while a body runs, then shuts it down gracefully.
public enum LoopbackServer {
    static let quiet = Logger(label: "idocr-test-server", factory: { _ in SwiftLogNoOpLogHandler() })

    /// - Parameters:
    ///   - tls: serves https with it; `nil`: plain http.
    ///   - idleTimeout: closes a connection idle this long; `nil`: never.
    ///   - body: gets the bound port.
    public static func serve<Context: RequestContext, T: Sendable>(
        _ router: Router<Context>,
        port: Int = 0,
        tls: TLSConfiguration? = nil,
        idleTimeout: TimeAmount? = nil,
        _ body: @Sendable (Int) async throws -> T
    ) async throws -> T where Context.Source == ApplicationRequestContextSource {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            server: try server(tls: tls, idleTimeout: idleTimeout),
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) },
            logger: quiet
        )
        let services = ServiceGroup(configuration: .init(services: [app], logger: quiet))
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await services.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let bound = await iterator.next() else { throw TestSupportError("the test server did not start") }
            let outcome = await Result { try await body(bound) }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
            return try outcome.get()
        }
    }

    /// HTTP/1.1, over TLS when `tls` is given.
    static func server(tls: TLSConfiguration?, idleTimeout: TimeAmount? = nil) throws -> HTTPServerBuilder {
        let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: idleTimeout))
        return try tls.map { try .tls(http1, tlsConfiguration: $0) } ?? http1
    }
}
