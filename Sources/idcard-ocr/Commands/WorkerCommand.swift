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
    @OptionGroup var workerOptions: WorkerOptions

    func run() async throws {
        let logger = Telemetry.bootstrap(service: "worker")
        var configuration = try queueOptions.configuration()
        try workerOptions.apply(to: &configuration)
        let redis: RedisConfiguration
        do {
            try configuration.validate()
            redis = try configuration.redisConfiguration()
        } catch {
            throw CLIError(error.description)
        }

        Self.returnLargeBuffersToTheSystem()
        let worker = try await WorkerProcess(configuration: configuration, redis: redis, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if configuration.metricsPort != 0 {
            services.append(
                .init(
                    service: Telemetry.metricsServer(
                        port: configuration.metricsPort,
                        health: worker.health,
                        logger: logger
                    )
                )
            )
        }
        // Listed last, shut down first: the metrics server keeps answering while jobs drain.
        services += worker.services
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
        await worker.shutdown()
        // An orchestrator tells a failure from a stop by the exit status.
        if failed { throw ExitCode.failure }
    }

    /// glibc raises its mmap threshold each time a large block is freed (up to 32 MB); then a large
    /// job's buffers come from the heap and their pages stay with the process. Fixed at glibc's
    /// initial 128 KiB, every buffer of an image or a job is returned once freed: a 20 MB job
    /// leaves no 20 MB behind (measured: four of them one after another, peak 209 → 135 MB).
    static func returnLargeBuffersToTheSystem() {
        #if os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, 128 * 1024)
        #endif
    }
}
