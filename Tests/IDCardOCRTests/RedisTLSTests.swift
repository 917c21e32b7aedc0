import Foundation
import IDCardContract
import IDCardTestSupport
import IDCardWorker
import Testing

@testable import IDCardQueue

/// A redis-server that speaks only TLS, with certificates from a throwaway CA: the worker reaches
/// it directly (`rediss://`), and every way TLS should refuse, it refuses.
@Suite("Redis over TLS, in the process")
struct RedisTLSTests {
    /// Runs `body` with a TLS-only redis-server whose certificate names `localhost` and `127.0.0.1`
    /// is not among its names, so reaching it by address tests the name check.
    static func withTLSRedis<T>(
        requireClientCertificate: Bool = false,
        _ body: (RedisServer, TestCertificates) async throws -> T
    ) async throws -> T {
        let certificates = try await TestCertificates(names: ["DNS:localhost"])
        defer { certificates.remove() }
        let redis = try await RedisServer(
            tls: RedisServer.TLS(certificates: certificates, requireClientCertificate: requireClientCertificate)
        )
        let outcome = await Result { try await body(redis, certificates) }
        await redis.stop()
        return try outcome.get()
    }

    /// What a command through a client with `tls` gets: the reply's text, or the error.
    static func ping(_ url: String, _ tls: RedisConfiguration.TLS) async -> Result<String?, any Error> {
        let client: RedisClient
        do {
            client = RedisClient(configuration: try RedisConfiguration(url: url, tls: tls))
        } catch {
            return .failure(error)
        }
        let reply = await Result { try await client.send("PING").string }
        await client.shutdown()
        return reply
    }

    @Test("a worker reaches a TLS-only Redis directly: jobs, results and a producer, all over TLS")
    func workerOverTLS() async throws {
        try await Self.withTLSRedis { redis, certificates in
            let fake = ShowAPIFake()
            try await fake.serve { url in
                var configuration = Harness.configuration(redis: redis, queue: Harness.uniqueQueue(), fakeURL: url)
                #expect(configuration.redisURL.hasPrefix("rediss://localhost:"))
                configuration.redisTLS.caFile = certificates.caFile
                let producer = try Harness.openQueue(configuration)
                try await producer.enqueue((0..<20).map { Harness.job(id: "tls-\($0)") })
                try await Harness.withWorker(configuration) { _ in
                    try await Harness.eventually("20 results") { try await Harness.drained(producer, last: "tls-19") }
                }
                #expect(try await producer.stats().succeeded == 20)
                #expect(try await producer.result(id: "tls-7")?.status == .succeeded)
                #expect(fake.stats.billed == 20)
                await producer.shutdown()
            }
        }
    }

    @Test("TLS refuses: another CA, the system's roots, a name the certificate does not carry, plain TCP")
    func refusals() async throws {
        try await Self.withTLSRedis { redis, certificates in
            let trusted = RedisConfiguration.TLS(caFile: certificates.caFile)
            let answer = try (await Self.ping(redis.url, trusted)).get()
            #expect(answer == "PONG")

            let otherCA = await Self.ping(redis.url, RedisConfiguration.TLS(caFile: certificates.otherCAFile))
            #expect((otherCA.failure as? RedisError)?.code == .connection)
            #expect("\(otherCA.failure.map { "\($0)" } ?? "")".contains("certificate"), "\(otherCA)")

            let systemRoots = await Self.ping(redis.url, RedisConfiguration.TLS())
            #expect((systemRoots.failure as? RedisError)?.code == .connection)

            // By address, against a certificate that names only localhost.
            let byAddress = "rediss://127.0.0.1:\(redis.port)/0"
            let wrongName = await Self.ping(byAddress, trusted)
            #expect((wrongName.failure as? RedisError)?.code == .connection, "\(wrongName)")
            // ... unless told which name to expect.
            var named = trusted
            named.serverName = "localhost"
            let namedAnswer = try (await Self.ping(byAddress, named)).get()
            #expect(namedAnswer == "PONG")

            let plain = await Self.ping("redis://127.0.0.1:\(redis.port)/0", RedisConfiguration.TLS())
            #expect(plain.failure != nil)
        }
    }

    @Test("mutual TLS: a server that requires a client certificate refuses a client without one, admits one with it")
    func mutualTLS() async throws {
        try await Self.withTLSRedis(requireClientCertificate: true) { redis, certificates in
            let anonymous = await Self.ping(redis.url, RedisConfiguration.TLS(caFile: certificates.caFile))
            #expect((anonymous.failure as? RedisError)?.code == .connection, "\(anonymous)")
            let identified = RedisConfiguration.TLS(
                caFile: certificates.caFile,
                certificateFile: certificates.clientCertificateFile,
                keyFile: certificates.clientKeyFile
            )
            let answer = try (await Self.ping(redis.url, identified)).get()
            #expect(answer == "PONG")
        }
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
