import Hummingbird
import Logging
import ServiceLifecycle

/// Runs a Hummingbird router on 127.0.0.1 while a body runs, then shuts it down gracefully.
enum LoopbackServer {
    static let quiet = Logger(label: "idocr-test-server", factory: { _ in SwiftLogNoOpLogHandler() })

    /// - Parameter body: gets the bound port.
    static func serve<T: Sendable>(_ router: Router<BasicRequestContext>, port: Int = 0, _ body: @Sendable (Int) async throws -> T) async throws -> T {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: quiet
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
}
