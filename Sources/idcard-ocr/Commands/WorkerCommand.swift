import ArgumentParser
import AsyncHTTPClient
import Foundation
import Hummingbird
import IDCardContract
import IDCardQueue
import IDCardRecognition
import IDCardWorker
import Logging
import ServiceLifecycle

#if os(Linux)
import CMalloc
#endif

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a worker process: a pool of concurrent jobs. Every flag also reads its environment variable."
    )

    @OptionGroup var queueOptions: QueueOptions
    @Option(help: "showapi or rapidocr (env IDOCR_PROVIDER)") var provider: String?
    @Option(name: .customLong("showapi-url"), help: "The 1429-1 endpoint (env SHOWAPI_URL)") var showAPIURL: String?
    @Option(
        name: .customLong("showapi-app-key-file"),
        help: "A file holding the appKey (env SHOWAPI_APP_KEY_FILE; prefer it to SHOWAPI_APP_KEY)"
    )
    var showAPIAppKeyFile: String?
    @Option(
        name: .customLong("showapi-ca-file"),
        help:
            "CA certificates (PEM) to trust for an https 1429-1 endpoint instead of the system's (env SHOWAPI_CA_FILE)"
    )
    var showAPICAFile: String?
    @Option(name: .customLong("rapidocr-url"), help: "A RapidOCR API server (env RAPIDOCR_URL)") var rapidOCRURL:
        String?
    @Option(help: "Jobs in flight in this process (env IDOCR_CONCURRENCY, default 16)") var concurrency: Int?
    @Option(
        name: .customLong("rate-limit"),
        help: "Calls per second for the whole fleet, 0 = none (env IDOCR_RATE_LIMIT)"
    ) var rateLimit: Double?
    @Option(name: .customLong("max-attempts"), help: "Attempts per job (env IDOCR_MAX_ATTEMPTS, default 5)")
    var maxAttempts: Int?
    @Option(name: .customLong("result-ttl"), help: "Seconds a result lives (env IDOCR_RESULT_TTL, default 604800)")
    var resultTTL: Int?
    @Option(
        name: .customLong("shutdown-grace"),
        help: "Seconds for in-flight jobs after SIGTERM (env IDOCR_SHUTDOWN_GRACE, default 25)"
    )
    var shutdownGrace: Double?
    @Option(
        name: .customLong("metrics-port"),
        help: "Port of /metrics, /healthz, /readyz; 0 = off (env IDOCR_METRICS_PORT, default 9464)"
    )
    var metricsPort: Int?
    @Flag(
        name: .customLong("allow-private-urls"),
        help: "Let imgUrl reach private addresses (env IDOCR_ALLOW_PRIVATE_URLS; development only)"
    )
    var allowPrivateURLs = false

    func run() async throws {
        let logger = Telemetry.bootstrap(service: "worker")
        var configuration = try queueOptions.configuration()
        if let provider { configuration.provider = provider }
        if let showAPIURL { configuration.showAPIURL = showAPIURL }
        if let showAPICAFile { configuration.showAPICAFile = showAPICAFile }
        if let showAPIAppKeyFile {
            configuration.showAPIAppKey = try WorkerConfiguration.secret(
                fromFile: showAPIAppKeyFile,
                for: "--showapi-app-key-file"
            )
        }
        if let rapidOCRURL { configuration.rapidOCRURL = rapidOCRURL }
        if let concurrency { configuration.concurrency = concurrency }
        if let rateLimit { configuration.rateLimit = rateLimit }
        if let maxAttempts { configuration.maxAttempts = maxAttempts }
        if let resultTTL { configuration.resultTTL = resultTTL }
        if let shutdownGrace { configuration.shutdownGrace = shutdownGrace }
        if let metricsPort { configuration.metricsPort = metricsPort }
        if allowPrivateURLs { configuration.allowPrivateURLs = true }
        let redis: RedisConfiguration
        do {
            try configuration.validate()
            redis = try configuration.redisConfiguration()
        } catch {
            throw CLIError(error.description)
        }

        Self.returnLargeBuffersToTheSystem()
        let httpClient = configuration.makeHTTPClient()
        let recognizer: any Recognizer
        do {
            recognizer = try configuration.makeRecognizer(httpClient: httpClient)
        } catch {
            try? await httpClient.shutdown()
            throw CLIError(error.description)
        }
        // One service per queue, sharing the process's slots and the fleet's rate budget.
        let served = configuration.servedQueues
        let queues = served.map {
            JobQueue(redis: redis, keys: QueueKeys(prefix: configuration.keyPrefix, queue: $0.name))
        }
        let capacity = ProcessCapacity(
            queues: served,
            policy: configuration.queuePolicy,
            concurrency: configuration.concurrency,
            rateGate: configuration.rateGate.map {
                RateGate(queue: queues[0], configuration: $0, keys: configuration.rateKeys)
            }
        )
        let health = WorkerHealth()
        let workers = zip(served, queues).map { served, queue in
            WorkerService(
                configuration: configuration.serving(served.name),
                queue: queue,
                recognizer: recognizer,
                health: health,
                capacity: capacity,
                logger: logger
            )
        }

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if configuration.metricsPort != 0 {
            services.append(
                .init(service: Telemetry.metricsServer(port: configuration.metricsPort, health: health, logger: logger))
            )
        }
        // Listed last, shut down first: the metrics server keeps answering while jobs drain.
        for worker in workers {
            services.append(
                .init(
                    service: worker,
                    successTerminationBehavior: .gracefullyShutdownGroup,
                    failureTerminationBehavior: .gracefullyShutdownGroup
                )
            )
        }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        var failed = false
        do {
            try await group.run()
        } catch {
            logger.error("worker failed", metadata: ["error": "\(error)"])
            failed = true
        }
        await recognizer.shutdown()
        try? await httpClient.shutdown()
        for queue in queues { await queue.shutdown() }
        // An orchestrator tells a failure from a stop by the exit status.
        if failed { throw ExitCode.failure }
    }

    /// glibc raises its mmap threshold each time a large block is freed (up to 32 MB); then a large
    /// job's buffers come from the heap and their pages stay with the process. Fixed at glibc's
    /// initial 128 KiB, every buffer of an image or a job is returned once freed: a 20 MB job
    /// leaves no 20 MB behind (measured: four of them one after another, peak 209 → 135 MB).
    private static func returnLargeBuffersToTheSystem() {
        #if os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, 128 * 1024)
        #endif
    }
}
