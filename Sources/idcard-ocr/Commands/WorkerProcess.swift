import AsyncHTTPClient
import IDCardQueue
import IDCardRecognition
import IDCardWorker
import Logging
import ServiceLifecycle

/// A worker's parts, as `worker` and `serve --worker` both run them: the recognizer, one
/// ``WorkerService`` per queue sharing the process's slots and the fleet's rate budget, and their
/// health. The command puts ``services`` into its group and calls ``shutdown()`` after it.
struct WorkerProcess {
    let health = WorkerHealth()
    let services: [ServiceGroupConfiguration.ServiceConfiguration]
    private let recognizer: any Recognizer
    private let httpClient: HTTPClient
    private let queues: [JobQueue]

    init(configuration: WorkerConfiguration, redis: RedisConfiguration, logger: Logger) async throws {
        httpClient = configuration.makeHTTPClient()
        do {
            recognizer = try configuration.makeRecognizer(httpClient: httpClient)
        } catch {
            try? await httpClient.shutdown()
            throw CLIError(error.description)
        }
        let served = configuration.servedQueues
        let queues = served.map {
            JobQueue(redis: redis, keys: QueueKeys(prefix: configuration.keyPrefix, queue: $0.name))
        }
        self.queues = queues
        let capacity = ProcessCapacity(
            queues: served,
            policy: configuration.queuePolicy,
            concurrency: configuration.concurrency,
            rateGate: configuration.rateGate.map {
                RateGate(queue: queues[0], configuration: $0, keys: configuration.rateKeys)
            }
        )
        services = zip(served, queues).map { [health, recognizer] served, queue in
            .init(
                service: WorkerService(
                    configuration: configuration.serving(served.name),
                    queue: queue,
                    recognizer: recognizer,
                    health: health,
                    capacity: capacity,
                    logger: logger
                ),
                successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup
            )
        }
    }

    func shutdown() async {
        await recognizer.shutdown()
        try? await httpClient.shutdown()
        for queue in queues { await queue.shutdown() }
    }
}
