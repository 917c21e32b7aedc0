import ArgumentParser
import Foundation
import IDCardQueue
import IDCardServe
import IDCardWorker
import Logging
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Answer the 1429-1 API and the HTTP jobs API from the fleet. Every flag also reads its variable.",
        discussion: """
            Requests become jobs on the queue (IDOCR_SERVE_QUEUE, default IDOCR_QUEUE); workers anywhere on the \
            same Redis answer them. With --worker this process runs a worker too (its flags as for `worker`).
            """
    )

    @OptionGroup var queueOptions: QueueOptions
    @Option(help: "Address to listen on (env IDOCR_SERVE_HOST, default 0.0.0.0)") var host: String?
    @Option(help: "Port to listen on, 0 = any (env IDOCR_SERVE_PORT, default 8080)") var port: Int?
    @Option(name: .customLong("keys-file"), help: "The API keys file, digests only (env IDOCR_SERVE_KEYS_FILE)")
    var keysFile: String?
    @Option(
        name: .customLong("serve-queue"),
        help: "The queue requests' jobs go to (env IDOCR_SERVE_QUEUE, default the worker's queue)"
    )
    var serveQueue: String?
    @Option(
        name: .customLong("answer-timeout"),
        help: "Seconds a 1429-1 request waits before answering -3 (env IDOCR_SERVE_ANSWER_TIMEOUT, default 20)"
    )
    var answerTimeout: Double?
    @Flag(help: "Also run a worker in this process") var worker = false
    @OptionGroup var workerOptions: WorkerOptions

    func run() async throws {
        let logger = Telemetry.bootstrap(service: "serve")
        var workerConfiguration = try queueOptions.configuration()
        try workerOptions.apply(to: &workerConfiguration)
        var configuration: ServeConfiguration
        let keys: KeysFile
        let redis: RedisConfiguration
        do {
            configuration = try ServeConfiguration(environment: ProcessInfo.processInfo.environment)
            if let host { configuration.host = host }
            if let port { configuration.port = port }
            if let keysFile { configuration.keysFile = keysFile }
            if let serveQueue { configuration.queue = serveQueue }
            if let answerTimeout { configuration.answerTimeout = ServeConfiguration.duration(answerTimeout) }
            try configuration.validate()
            try workerConfiguration.validate()
            keys = try KeysFile(
                path: configuration.keysFile ?? "",
                setting: "IDOCR_SERVE_KEYS_FILE",
                interval: configuration.keysReloadInterval,
                logger: logger
            )
            redis = try workerConfiguration.redisConfiguration()
        } catch {
            throw CLIError(error.description)
        }
        let queue = JobQueue(
            redis: redis,
            keys: QueueKeys(
                prefix: workerConfiguration.keyPrefix,
                queue: configuration.queue ?? workerConfiguration.queue
            )
        )
        let server = ServeServer(
            configuration: configuration,
            keys: keys,
            queue: queue,
            prefix: workerConfiguration.keyPrefix,
            resultTTL: workerConfiguration.resultTTL,
            instance: workerConfiguration.workerID,
            encryptionKeys: workerConfiguration.encryptionKeys,
            intakeLimits: workerConfiguration.intakeLimits,
            logger: logger
        )
        let workerProcess =
            worker ? try await WorkerProcess(configuration: workerConfiguration, redis: redis, logger: logger) : nil
        if worker { WorkerCommand.returnLargeBuffersToTheSystem() }

        // Shut down in reverse: the HTTP server first (it stops taking requests and drains those in
        // flight), then the inbox that answers them and the keys, then this process's workers,
        // then metrics.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if workerConfiguration.metricsPort != 0 {
            let health = workerProcess?.health ?? WorkerHealth()
            services.append(
                .init(
                    service: Telemetry.metricsServer(
                        port: workerConfiguration.metricsPort,
                        health: health,
                        logger: logger
                    )
                )
            )
        }
        services += workerProcess?.services ?? []
        services.append(.init(service: keys))
        services.append(.init(service: server.inbox, failureTerminationBehavior: .gracefullyShutdownGroup))
        let scheme = configuration.tlsCertificateFile == nil ? "http" : "https"
        let application: any Service
        do {
            application = try server.application { [port = configuration.port] address in
                logger.notice("serve listening", metadata: ["port": "\(address?.port ?? port)", "scheme": "\(scheme)"])
            }
        } catch {
            throw CLIError(error.description)
        }
        services.append(.init(service: application, failureTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        var failed = false
        do {
            try await group.run()
        } catch {
            logger.error("serve failed", metadata: ["error": "\(error)"])
            failed = true
        }
        await workerProcess?.shutdown()
        await queue.shutdown()
        if failed { throw ExitCode.failure }
    }
}

/// `idcard-ocr api-key NAME`: a new key for `serve`, its keys-file line on stdout.
struct APIKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-key",
        abstract: "Make a new API key for serve: the keys-file line (a digest only) goes to stdout.",
        discussion: """
            The key itself goes to --key-out (a file made readable by its owner only), else to stderr; it is \
            not stored anywhere else. Append the line to the keys file: idcard-ocr api-key shop-eu --rate 20 >> keys.txt
            """
    )

    @Argument(help: "The client's name: 1-32 characters of A-Za-z0-9_-") var name: String
    @Option(help: "Requests per second, on average (default no limit)") var rate: Double?
    @Option(help: "Requests at once (default a second's worth)") var burst: Int?
    @Option(help: "Jobs per period: N, N/day or N/month (default no quota)") var quota: String?
    @Option(name: .customLong("key-out"), help: "Write the key to this file (mode 0600) instead of stderr")
    var keyOut: String?

    func run() throws {
        var settings: [String] = []
        if let rate { settings.append("rate=\(rate)") }
        if let burst { settings.append("burst=\(burst)") }
        if let quota { settings.append("quota=\(quota)") }
        let key = APIKeyring.newKey()
        let line = APIKeyring.line(name: name, key: key, settings: settings)
        do {
            // The line must parse as serve will read it.
            _ = try APIKeyring(parsing: line, source: "the new line")
        } catch {
            throw ValidationError(error.description)
        }
        if let keyOut {
            guard
                FileManager.default.createFile(
                    atPath: keyOut,
                    contents: Data((key + "\n").utf8),
                    attributes: [.posixPermissions: 0o600]
                )
            else { throw CLIError("cannot write \(keyOut)") }
        } else {
            FileHandle.standardError.write(
                Data("API key for \(name) (give it to the client; it is not kept): \(key)\n".utf8)
            )
        }
        print(line)
    }
}
