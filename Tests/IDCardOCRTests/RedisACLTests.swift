import Foundation
import IDCardContract
import IDCardTestSupport
import IDCardWorker
import Testing

@testable import IDCardQueue

@Suite("Redis with ACL users and passwords")
struct RedisACLTests {
    /// A server whose default user may only PING (and SHUTDOWN, how tests stop it); `worker` may do
    /// anything to `idocr:` keys.
    static let aclArguments = [
        "--user", "default", "on", "nopass", "-@all", "+ping", "+shutdown", "--user", "worker", "on", ">s3cret pass",
        "~idocr:*", "+@all",
    ]

    @Test(
        """
        a worker logged in as an ACL user does its jobs; without the user, or with a wrong password, Redis refuses \
        and the password is never echoed
        """
    )
    func aclUser() async throws {
        try await Harness.withRedis(arguments: Self.aclArguments) { redis in
            let fake = ShowAPIFake()
            try await fake.serve { url in
                var configuration = Harness.configuration(redis: redis, queue: Harness.uniqueQueue(), fakeURL: url)
                configuration.redisURL = "redis://worker:s3cret%20pass@127.0.0.1:\(redis.port)/0"
                let producer = try Harness.openQueue(configuration)
                try await producer.enqueue((0..<3).map { Harness.job(id: "acl-\($0)") })
                try await Harness.withWorker(configuration) { _ in
                    try await Harness.eventually("3 results") { try await Harness.drained(producer, last: "acl-2") }
                }
                #expect(try await producer.result(id: "acl-0")?.status == .succeeded)
                await producer.shutdown()
            }

            let anonymous = RedisClient(configuration: try RedisConfiguration(url: redis.url))
            await #expect(throws: RedisError.self) { _ = try await anonymous.send("GET", "idocr:{q}:result:x") }
            await anonymous.shutdown()

            let wrong = RedisClient(
                configuration: try RedisConfiguration(url: "redis://worker:not-it@127.0.0.1:\(redis.port)/0")
            )
            let error = await #expect(throws: RedisError.self) { _ = try await wrong.send("PING") }
            #expect(error.map { "\($0)".contains("not-it") } == false)
            await wrong.shutdown()
        }
    }

    @Test("IDOCR_REDIS_PASSWORD_FILE: the password comes from a file, the user from the URL")
    func passwordFile() async throws {
        try await Harness.withRedis(arguments: Self.aclArguments) { redis in
            let file = FileManager.default.temporaryDirectory.appendingPathComponent(
                "redis-password-\(UUID().uuidString)"
            )
            try "s3cret pass\n".write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            let configuration = try WorkerConfiguration(environment: [
                "IDOCR_REDIS_URL": "redis://worker@127.0.0.1:\(redis.port)/0", "IDOCR_REDIS_PASSWORD_FILE": file.path,
            ])
            let redisConfiguration = try configuration.redisConfiguration()
            #expect(redisConfiguration.username == "worker" && redisConfiguration.password == "s3cret pass")
            let client = RedisClient(configuration: redisConfiguration)
            #expect(try await client.send("SET", "idocr:{q}:probe", "1").string == "OK")
            await client.shutdown()

            #expect(throws: ConfigurationError.self) {
                try WorkerConfiguration(environment: ["IDOCR_REDIS_PASSWORD_FILE": "/nonexistent/password"])
            }
            // Without the file, a lone name before @ stays a password, as the URL form always meant.
            let plain = try WorkerConfiguration(environment: ["IDOCR_REDIS_URL": "redis://pw@127.0.0.1:6379/0"])
                .redisConfiguration()
            #expect(plain.username == nil && plain.password == "pw")
        }
    }
}
