import AsyncHTTPClient
import Foundation
import HummingbirdTLS
import IDCardContract
import IDCardRecognition
import IDCardTestSupport
import Logging
import Metrics
import MetricsTestKit
import NIOConcurrencyHelpers
import Testing

@testable import IDCardQueue
@testable import IDCardWorker

/// Shared helpers: a real redis-server per test, unique queue names, the 1429-1 fake, workers
/// in this process or as real child processes.
enum Harness {
    /// The tests' Python environment (scripts/setup): requests, schemathesis, openapi-spec-validator, Pillow.
    static let venv = FileManager.default.currentDirectoryPath + "/.venv/bin/"

    /// Runs a command and returns its standard output (and its exit status through `status`).
    static func run(_ arguments: [String], status: UnsafeMutablePointer<Int32>? = nil) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        status?.pointee = process.terminationStatus
        return data
    }

    static let appKey = "test-app-key"

    static func uniqueQueue(_ name: String = #function) -> String {
        let base = name.filter { $0.isLetter || $0.isNumber }.prefix(30)
        return "\(base)-\(UInt32.random(in: .min ... .max))"
    }

    /// Runs `body` with a fresh redis-server, stopped afterwards.
    static func withRedis<T>(arguments: [String] = [], _ body: (RedisServer) async throws -> T) async throws -> T {
        let redis = try await RedisServer(arguments: arguments)
        let outcome = await Result { try await body(redis) }
        await redis.stop()
        return try outcome.get()
    }

    /// One test's world: a fresh redis-server, a 1429-1 fake, a worker configuration pointing at
    /// both, and a producer on a queue of the test's own.
    struct Scenario: Sendable {
        let fake: ShowAPIFake
        let configuration: WorkerConfiguration
        let producer: JobQueue
    }

    static func scenario<T: Sendable>(
        fake fakeConfiguration: ShowAPIFake.Configuration = .init(),
        tls: TLSConfiguration? = nil,
        name: String = #function,
        configure: @Sendable (inout WorkerConfiguration) -> Void = { _ in },
        _ body: @Sendable (Scenario) async throws -> T
    ) async throws -> T {
        try await withRedis { redis in
            let fake = ShowAPIFake(configuration: fakeConfiguration)
            return try await fake.serve(tls: tls) { url in
                var configuration = Self.configuration(redis: redis, queue: uniqueQueue(name), fakeURL: url)
                configure(&configuration)
                let producer = try openQueue(configuration)
                let outcome = await Result {
                    try await body(Scenario(fake: fake, configuration: configuration, producer: producer))
                }
                await producer.shutdown()
                return try outcome.get()
            }
        }
    }

    static func configuration(redis: RedisServer, queue: String, fakeURL: String) -> WorkerConfiguration {
        var configuration = WorkerConfiguration()
        configuration.redisURL = redis.url
        configuration.queue = queue
        configuration.provider = "showapi"
        configuration.showAPIURL = fakeURL
        configuration.showAPIAppKey = appKey
        configuration.retryBase = 0.05
        configuration.retryCap = 0.2
        configuration.heartbeatTimeout = 3
        configuration.metricsPort = 0
        configuration.shutdownGrace = 5
        configuration.concurrency = 8
        configuration.recognizerTimeout = 5
        return configuration
    }

    static func openQueue(_ configuration: WorkerConfiguration) throws -> JobQueue {
        JobQueue(
            redis: try configuration.redisConfiguration(),
            keys: QueueKeys(prefix: configuration.keyPrefix, queue: configuration.queue)
        )
    }

    /// Probes quickly, so tests of a paused worker need not wait minutes.
    static let quickProbes = RetryPolicy(base: .milliseconds(200), cap: .seconds(1))

    /// Runs a worker in this process while `body` runs, then stops it as SIGTERM would.
    /// - Parameters:
    ///   - wrap: puts something between the worker and its configured recognizer.
    ///   - probes: when a paused worker tries a job again.
    static func withWorker<T: Sendable>(
        _ configuration: WorkerConfiguration,
        wrap: (any Recognizer) -> any Recognizer = { $0 },
        probes: RetryPolicy = quickProbes,
        _ body: @Sendable (WorkerService) async throws -> T
    ) async throws -> T {
        _ = Self.metrics
        let httpClient = configuration.makeHTTPClient()
        let queue = try openQueue(configuration)
        let configured = try configuration.makeRecognizer(httpClient: httpClient)
        let recognizer = wrap(configured)
        let health = WorkerHealth(probePolicy: probes)
        let worker = WorkerService(
            configuration: configuration,
            queue: queue,
            recognizer: recognizer,
            health: health,
            logger: testLogger
        )
        let (result, runFailure) = await withTaskGroup(of: (any Error)?.self) { group in
            group.addTask {
                do {
                    try await worker.run()
                    return nil
                } catch {
                    return error
                }
            }
            let result = await Result { try await body(worker) }
            worker.stop()
            var runFailure: (any Error)?
            for await case let failure? in group { runFailure = failure }
            return (result, runFailure)
        }
        await configured.shutdown()
        try? await httpClient.shutdown()
        await queue.shutdown()
        // The worker's own failure first: the executable would exit with it, and it is the cause
        // of whatever the body then waited for in vain.
        if let runFailure {
            Issue.record("the worker's run() threw: \(runFailure)")
            throw runFailure
        }
        return try result.get()
    }

    /// The process's metrics, recorded for tests to read (bootstrapped once, before the first
    /// worker that reads them is made). Tests tell their figures apart by their queue label.
    static let metrics: TestMetrics = {
        let metrics = TestMetrics()
        MetricsSystem.bootstrap(metrics)
        return metrics
    }()

    /// Silent unless IDOCR_TEST_LOGS=1.
    static var testLogger: Logger {
        if ProcessInfo.processInfo.environment["IDOCR_TEST_LOGS"] == "1" { return Logger(label: "test-worker") }
        return Logger(label: "test-worker", factory: { _ in SwiftLogNoOpLogHandler() })
    }

    /// Polls until `condition` holds; fails the test after `timeout` seconds.
    static func eventually(
        _ what: String,
        timeout: Double = 20,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        var lastError: (any Error)?
        while Date() < deadline {
            do {
                if try await condition() { return }
            } catch {
                lastError = error  // e.g. a pooled connection to a Redis that restarted: ask again
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record(
            "timed out waiting for: \(what); last error: \(lastError.map { "\($0)" } ?? "none")",
            sourceLocation: sourceLocation
        )
        throw TestSupportError("timed out waiting for: \(what)")
    }

    /// A job whose image the 1429-1 fake reads as `card`, answering per `script`.
    static func job(
        id: String,
        card: [String: String] = SyntheticCard.portrait(),
        script: [FakeImage.Step] = [],
        side: Job.Side = .portrait,
        replyTo: String? = nil
    ) -> Job {
        Job(
            id: id,
            image: .base64(encoding: FakeImage.make(card: card, script: script)),
            side: side,
            replyTo: replyTo,
            meta: .object(["order": .int(7781)])
        )
    }

    /// Nothing pending, held or waiting to be retried, and the last job's result is there. (The
    /// last job's result alone proves nothing: jobs taken before it may still be in flight.)
    static func drained(_ queue: JobQueue, last id: String) async throws -> Bool {
        let stats = try await queue.stats()
        let result = try await queue.resultData(id: id)
        return stats.pending == 0 && stats.processing == 0 && stats.delayed == 0 && result != nil
    }

    /// Takes one job as a worker named `worker` would, registering it first when needed.
    static func take(
        from queue: JobQueue,
        worker: String = "w",
        maxElementBytes: Int = IntakeLimits().maxElementBytes
    ) async throws -> ReceivedJob? {
        let registration: WorkerRegistration
        if let epoch = try await queue.redis.send("HGET", .string(queue.keys.epochs), .string(worker)).int {
            registration = WorkerRegistration(worker: worker, epoch: epoch)
        } else {
            registration = try await queue.register(worker: worker).registration
        }
        return try await queue.take(registration, limit: 1, maxElementBytes: maxElementBytes).jobs.first
    }

    /// The key under which a 1429-1 worker remembers the recognition of `job`'s image bytes, as
    /// the worker names it.
    static func rememberedKey(of job: Job, in queue: JobQueue) throws -> String {
        let digest = try #require(try PreparedImage(job.image).sha256)
        return queue.keys.image(
            WorkerService.rememberedRecognitionKey(
                provider: "showapi",
                sha256: digest,
                side: job.side,
                needQuality: job.needQuality
            )
        )
    }

    /// Waits for the result of job `id`, woken by Redis's announcement of its write (``KeyWrites``);
    /// polls where the server announces nothing to this user.
    static func waitForResult(_ queue: JobQueue, id: String, timeout: Double = 20) async throws -> JobResult {
        let found = NIOLockedValueBox<JobResult?>(nil)
        let look: @Sendable () async throws -> Bool = {
            let result = try await queue.result(id: id)
            found.withLockedValue { $0 = result }
            return result != nil
        }
        let outcome = try await KeyWrites.wait(
            for: queue.keys.result(id),
            redis: queue.redis,
            timeout: .seconds(timeout),
            until: look
        )
        switch outcome {
        case .done: break
        // A last look, failing the test as `eventually` does.
        case .timedOut: try await eventually("result of \(id)", timeout: 0.2, look)
        case .unavailable: try await eventually("result of \(id)", timeout: timeout, look)
        }
        return try #require(found.withLockedValue { $0 })
    }
}
