import Foundation
import IDCardTestSupport
import Testing

@testable import IDCardQueue

/// The test harness's own promise: a test talks to its own redis-server, never to another test's.
@Suite("The tests' redis-server")
struct RedisServerTests {
    /// Tests pick a free port and release it before the server binds it: another test's server may
    /// take it meanwhile. A server that cannot bind it must not pass for ready because the stranger
    /// answers PING (a CI run's test talked to another test's server, which went away with it).
    @Test("a server whose port another server holds is not taken for ready")
    func portHeldByAnother() async throws {
        let holder = try await RedisServer()
        await #expect(throws: TestSupportError.self) {
            let impostor = try await RedisServer(port: holder.port)
            await impostor.stop()
        }
        #expect(holder.isRunning)
        await holder.stop()
    }

    /// A restart appends to the log of the server before it: the first server's "Ready" line must
    /// not pass for the new one's, whose port is still closed.
    @Test("a restarted server is ready only once it listens, and keeps its data")
    func restartWaitsForItsOwnStart() async throws {
        let first = try await RedisServer(arguments: ["--appendonly", "yes"])
        let before = RedisClient(configuration: first.configuration)
        #expect(try await before.send("SET", "k", "v").string == "OK")
        await before.shutdown()
        await first.kill()
        let second = try await first.restart()
        let after = RedisClient(configuration: second.configuration)
        #expect(try await after.send("GET", "k").string == "v")
        await after.shutdown()
        await second.stop()
    }
}
