import ArgumentParser
import IDCardWorker

/// The worker's own flags, over their environment variables: `worker` takes them, and so does
/// `serve --worker`, which runs a worker in the same process.
struct WorkerOptions: ParsableArguments {
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

    /// The configuration with these flags applied over it.
    func apply(to configuration: inout WorkerConfiguration) throws {
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
    }
}
