import ArgumentParser
import Foundation
import IDCardContract
import IDCardQueue
import IDCardWorker

/// Where the queue is: flags over `IDOCR_REDIS_URL`, `IDOCR_KEY_PREFIX`, `IDOCR_QUEUE` over defaults.
struct QueueOptions: ParsableArguments {
    @Option(
        name: .customLong("redis-url"),
        help:
            """
            redis://[user:password@]host:port/db, redis+sentinel://[user:password@]host:26379,.../master/db or \
            redis+cluster://[user:password@]host:port,host:port; rediss… for TLS (env IDOCR_REDIS_URL)
            """
    )
    var redisURL: String?

    @Option(
        name: .customLong("redis-password-file"),
        help: "File holding the Redis password; replaces one in the URL (env IDOCR_REDIS_PASSWORD_FILE)"
    )
    var redisPasswordFile: String?

    @Option(
        name: .customLong("sentinel-password-file"),
        help: "File holding the Sentinels' own password (env IDOCR_SENTINEL_PASSWORD_FILE)"
    )
    var sentinelPasswordFile: String?

    @Option(name: .customLong("key-prefix"), help: "Key prefix P (env IDOCR_KEY_PREFIX, default idocr)")
    var keyPrefix: String?

    @Option(name: .customLong("queue"), help: "Queue name Q (env IDOCR_QUEUE, default idcard)")
    var queue: String?

    @Option(
        name: .customLong("queues"),
        help: "Several queues, name:weight,… (realtime:6,bulk:1): worker serves, stats shows all (env IDOCR_QUEUES)"
    )
    var queues: String?

    @Option(
        name: .customLong("encryption-keys-file"),
        help:
            """
            File of kid:base64key entries, the sealing key first: seal (worker) or open (result, dlq) personal data \
            (env IDOCR_ENCRYPTION_KEYS_FILE)
            """
    )
    var encryptionKeysFile: String?

    /// The environment's configuration with these flags applied.
    func configuration() throws -> WorkerConfiguration {
        var configuration = try WorkerConfiguration(environment: ProcessInfo.processInfo.environment)
        if let redisURL { configuration.redisURL = redisURL }
        if let redisPasswordFile {
            configuration.redisPassword = try WorkerConfiguration.secret(
                fromFile: redisPasswordFile,
                for: "--redis-password-file"
            )
        }
        if let sentinelPasswordFile {
            configuration.sentinelPassword = try WorkerConfiguration.secret(
                fromFile: sentinelPasswordFile,
                for: "--sentinel-password-file"
            )
        }
        if let keyPrefix { configuration.keyPrefix = keyPrefix }
        if let queues {
            configuration.queues = try WeightedQueue.parse(list: queues)
            configuration.queue = configuration.queues[0].name
        }
        if let queue {
            configuration.queue = queue
            configuration.queues = []
        }
        if let encryptionKeysFile {
            let text = try WorkerConfiguration.secret(fromFile: encryptionKeysFile, for: "--encryption-keys-file")
            configuration.encryptionKeys = try WorkerConfiguration.encryptionKeys(text, from: "--encryption-keys-file")
        }
        return configuration
    }

    /// Every queue the configuration serves (`--queues`, `IDOCR_QUEUES`), or the one queue.
    func openQueues() throws -> [JobQueue] {
        let configuration = try configuration()
        let redis = try configuration.redisConfiguration()
        return configuration.servedQueues.map {
            JobQueue(redis: redis, keys: QueueKeys(prefix: configuration.keyPrefix, queue: $0.name))
        }
    }

    func openQueue() throws -> JobQueue {
        let configuration = try configuration()
        return JobQueue(
            redis: try configuration.redisConfiguration(),
            keys: QueueKeys(prefix: configuration.keyPrefix, queue: configuration.queue)
        )
    }
}

extension JobQueue {
    /// Runs a command's work and closes the queue afterwards, whatever happened.
    func using<T>(_ body: (JobQueue) async throws -> T) async throws -> T {
        do {
            let value = try await body(self)
            await shutdown()
            return value
        } catch {
            await shutdown()
            throw error
        }
    }
}
