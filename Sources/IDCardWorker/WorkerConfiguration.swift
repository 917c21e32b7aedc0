import Foundation
import IDCardContract
import IDCardQueue
import IDCardRecognition

/// Everything a worker process is told, with the contract's defaults (docs/contract.md, "Configuration").
///
/// Every field has an environment variable; the most used also have `worker` flags.
/// Fields marked *extension* are not in the contract; their defaults keep the contract's behaviour.
public struct WorkerConfiguration: Sendable {
    /// `IDOCR_REDIS_URL`: `redis://[user:password@]host:port/db`, or *extension*
    /// `redis+sentinel://[user:password@]host1:26379,host2:26379/mymaster/db`; *extension*
    /// `rediss://` and `rediss+sentinel://` for TLS.
    public var redisURL = "redis://127.0.0.1:6379/0"
    /// *Extension*: how a `rediss` URL's TLS is checked and what it shows, each from a file:
    /// `IDOCR_REDIS_TLS_CA_FILE` (the CA bundle to trust instead of the system's roots),
    /// `IDOCR_REDIS_TLS_CERT_FILE` and `IDOCR_REDIS_TLS_KEY_FILE` (a client certificate, for mutual
    /// TLS), `IDOCR_REDIS_TLS_SERVER_NAME` (the name the server's certificate must carry, when it is
    /// not the host connected to). All unset: the system's roots, the URL's host, no client certificate.
    public var redisTLS = RedisConfiguration.TLS()
    /// *Extension*: the contents of the file `IDOCR_REDIS_PASSWORD_FILE` names (a mounted Secret),
    /// so the password need not sit in the URL; it replaces any password there.
    public var redisPassword: String?
    /// *Extension* `IDOCR_SENTINEL_USERNAME`: the Sentinels' own ACL user, for a `redis+sentinel://` URL.
    public var sentinelUsername: String?
    /// *Extension* `IDOCR_SENTINEL_PASSWORD`, or the contents of `IDOCR_SENTINEL_PASSWORD_FILE`: the
    /// Sentinels' own password (`requirepass` in `sentinel.conf`), apart from the master's.
    public var sentinelPassword: String?
    /// `IDOCR_KEY_PREFIX`: `P` of the keys.
    public var keyPrefix = "idocr"
    /// `IDOCR_QUEUE`: `Q` of the keys.
    public var queue = "idcard"
    /// *Extension* `IDOCR_QUEUES`: several queues for this process, `realtime:6,default:3,bulk:1`
    /// (``WeightedQueue/parse(list:)``), each with its own keys, dead list, stats and metrics, sharing
    /// the process's `IDOCR_CONCURRENCY` slots by weight. Empty (the default): `queue` alone.
    public var queues: [WeightedQueue] = []
    /// *Extension* `IDOCR_QUEUE_POLICY`: `weighted` (the default: slots in proportion to the
    /// weights) or `strict` (a queue only while no heavier one has jobs).
    public var queuePolicy = WeightedQueue.Policy.weighted
    /// *Extension* `IDOCR_RATE_BUDGET`: the name of the fleet's rate schedule, shared by every
    /// queue whose workers name it (`P:{rate:B}:rate`, a hash slot of its own). Unset: with one
    /// queue, the queue's own schedule (`P:{Q}:rate`, as before); with several, the provider's name.
    public var rateBudget: String?
    /// `IDOCR_PROVIDER`: `showapi` or `rapidocr`.
    public var provider = "rapidocr"
    /// `SHOWAPI_URL`
    public var showAPIURL = "https://route.showapi.com/1429-1"
    /// `SHOWAPI_APP_KEY`, or the contents of the file `SHOWAPI_APP_KEY_FILE` names.
    public var showAPIAppKey: String?
    /// `SHOWAPI_CA_FILE`: a PEM file of the CA certificates to trust for an https `SHOWAPI_URL`
    /// instead of the system's (a TLS-inspecting egress proxy, a test server). Our extension.
    public var showAPICAFile: String?
    /// `RAPIDOCR_URL`
    public var rapidOCRURL = "http://127.0.0.1:9003/ocr"
    /// `IDOCR_CONCURRENCY`: jobs in flight in this process.
    public var concurrency = 16
    /// `IDOCR_RATE_LIMIT`: recognizer calls per second for the whole fleet on this queue; 0 = none.
    public var rateLimit: Double = 0
    /// `IDOCR_MAX_ATTEMPTS`
    public var maxAttempts = 5
    /// `IDOCR_RESULT_TTL`: seconds a result (and a remembered recognition) lives.
    public var resultTTL = 604_800
    /// `IDOCR_SHUTDOWN_GRACE`: seconds in-flight jobs get after SIGTERM/SIGINT.
    public var shutdownGrace: Double = 25
    /// `IDOCR_METRICS_PORT`: `/metrics`, `/healthz`, `/readyz`; 0 = off.
    public var metricsPort = 9464
    /// `IDOCR_ALLOW_PRIVATE_URLS`: let imgUrl reach loopback and private addresses (development only).
    public var allowPrivateURLs = false

    /// *Extension* `IDOCR_RETRY_BASE`: seconds; the backoff before attempt n is random in [0, min(cap, base·2ⁿ⁻¹)].
    public var retryBase: Double = 1
    /// *Extension* `IDOCR_RETRY_CAP`: seconds; the longest backoff.
    public var retryCap: Double = 300
    /// *Extension* `IDOCR_DEDUPE_IMAGES`: reuse the recognition of identical image bytes (SHA-256)
    /// within the result TTL.
    public var dedupeImages = true
    /// *Extension* `IDOCR_MAX_IMAGE_BYTES`
    public var maxImageBytes = 4 * 1024 * 1024
    /// *Extension* `IDOCR_HEARTBEAT_TIMEOUT`: seconds without a heartbeat before a worker's jobs are recovered.
    public var heartbeatTimeout: Double = 15
    /// *Extension* `IDOCR_RATE_COOLDOWN`: seconds the fleet holds off after the API answers "rate limited".
    public var rateCoolDown: Double = 1
    /// *Extension* `IDOCR_OCR_TIMEOUT`: seconds one recognizer call may take, answer included.
    public var recognizerTimeout: Double = 30
    /// *Extension* `IDOCR_WORKER_ID`: this process's name in Redis; default host-pid-random.
    public var workerID = WorkerConfiguration.defaultWorkerID()
    /// *Extension* `IDOCR_ENCRYPTION_KEYS`, or the file `IDOCR_ENCRYPTION_KEYS_FILE` names: `kid:base64key`
    /// entries, the sealing key first. With them, result bodies, dead-lettered jobs and remembered
    /// recognitions are stored sealed (AES-256-GCM); without them, in the clear. Default: none.
    public var encryptionKeys: EncryptionKeys?

    /// The image checks every job passes before a recognizer sees it.
    public var intakeLimits: IntakeLimits { IntakeLimits(maxImageBytes: maxImageBytes) }

    public init() {}

    /// Reads the environment over the defaults.
    public init(environment: [String: String]) throws(ConfigurationError) {
        let reader = EnvironmentReader(environment: environment)
        redisURL = reader.string("IDOCR_REDIS_URL") ?? redisURL
        keyPrefix = reader.string("IDOCR_KEY_PREFIX") ?? keyPrefix
        queue = reader.string("IDOCR_QUEUE") ?? queue
        if let list = reader.string("IDOCR_QUEUES") {
            queues = try WeightedQueue.parse(list: list)
            queue = queues[0].name
        }
        if let policy = reader.string("IDOCR_QUEUE_POLICY") {
            guard let known = WeightedQueue.Policy(rawValue: policy.lowercased()) else {
                throw ConfigurationError("IDOCR_QUEUE_POLICY must be weighted or strict, not \(policy)")
            }
            queuePolicy = known
        }
        rateBudget = reader.string("IDOCR_RATE_BUDGET")
        provider = reader.string("IDOCR_PROVIDER") ?? provider
        showAPIURL = reader.string("SHOWAPI_URL") ?? showAPIURL
        showAPICAFile = reader.string("SHOWAPI_CA_FILE")
        redisPassword = try Self.secret(fromFileIn: "IDOCR_REDIS_PASSWORD_FILE", reader)
        redisTLS = RedisConfiguration.TLS(
            caFile: reader.string("IDOCR_REDIS_TLS_CA_FILE"),
            certificateFile: reader.string("IDOCR_REDIS_TLS_CERT_FILE"),
            keyFile: reader.string("IDOCR_REDIS_TLS_KEY_FILE"),
            serverName: reader.string("IDOCR_REDIS_TLS_SERVER_NAME")
        )
        sentinelUsername = reader.string("IDOCR_SENTINEL_USERNAME")
        sentinelPassword = reader.string("IDOCR_SENTINEL_PASSWORD")
        if sentinelPassword == nil {
            sentinelPassword = try Self.secret(fromFileIn: "IDOCR_SENTINEL_PASSWORD_FILE", reader)
        }
        showAPIAppKey = reader.string("SHOWAPI_APP_KEY")
        if showAPIAppKey == nil { showAPIAppKey = try Self.secret(fromFileIn: "SHOWAPI_APP_KEY_FILE", reader) }
        rapidOCRURL = reader.string("RAPIDOCR_URL") ?? rapidOCRURL
        concurrency = try reader.int("IDOCR_CONCURRENCY") ?? concurrency
        rateLimit = try reader.double("IDOCR_RATE_LIMIT") ?? rateLimit
        maxAttempts = try reader.int("IDOCR_MAX_ATTEMPTS") ?? maxAttempts
        resultTTL = try reader.int("IDOCR_RESULT_TTL") ?? resultTTL
        shutdownGrace = try reader.double("IDOCR_SHUTDOWN_GRACE") ?? shutdownGrace
        metricsPort = try reader.int("IDOCR_METRICS_PORT") ?? metricsPort
        allowPrivateURLs = try reader.bool("IDOCR_ALLOW_PRIVATE_URLS") ?? allowPrivateURLs
        retryBase = try reader.double("IDOCR_RETRY_BASE") ?? retryBase
        retryCap = try reader.double("IDOCR_RETRY_CAP") ?? retryCap
        dedupeImages = try reader.bool("IDOCR_DEDUPE_IMAGES") ?? dedupeImages
        maxImageBytes = try reader.int("IDOCR_MAX_IMAGE_BYTES") ?? maxImageBytes
        heartbeatTimeout = try reader.double("IDOCR_HEARTBEAT_TIMEOUT") ?? heartbeatTimeout
        rateCoolDown = try reader.double("IDOCR_RATE_COOLDOWN") ?? rateCoolDown
        recognizerTimeout = try reader.double("IDOCR_OCR_TIMEOUT") ?? recognizerTimeout
        workerID = reader.string("IDOCR_WORKER_ID") ?? workerID
        if let keys = reader.string("IDOCR_ENCRYPTION_KEYS") {
            encryptionKeys = try Self.encryptionKeys(keys, from: "IDOCR_ENCRYPTION_KEYS")
        } else if let keys = try Self.secret(fromFileIn: "IDOCR_ENCRYPTION_KEYS_FILE", reader) {
            encryptionKeys = try Self.encryptionKeys(keys, from: "IDOCR_ENCRYPTION_KEYS_FILE")
        }
    }

    /// Parses encryption keys, naming `setting` (never a key) when they do not parse.
    public static func encryptionKeys(_ text: String, from setting: String) throws(ConfigurationError) -> EncryptionKeys
    {
        do {
            return try EncryptionKeys(parsing: text)
        } catch {
            throw ConfigurationError("\(setting): \(error)")
        }
    }

    /// A secret from the file the variable `name` points at; `nil` when the variable is unset.
    private static func secret(
        fromFileIn name: String,
        _ reader: EnvironmentReader
    ) throws(ConfigurationError) -> String? {
        guard let path = reader.string(name) else { return nil }
        return try secret(fromFile: path, for: name)
    }

    /// A secret file's contents, trimmed (a mounted Secret often ends with a newline); the error names
    /// `setting` (the variable or flag that gave the path), never the contents.
    public static func secret(fromFile path: String, for setting: String) throws(ConfigurationError) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError("\(setting): cannot read \(path)")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Where Redis is and how to log in: `IDOCR_REDIS_URL` with the password from
    /// `IDOCR_REDIS_PASSWORD_FILE` when set. With the file, `redis://worker@host:6379/0` names the
    /// ACL user `worker` (without it, a lone name before `@` is a password, as before).
    /// With a `rediss` URL, the TLS files are read now, so a missing or unreadable one stops the
    /// process at its start, naming the setting, rather than making Redis look unreachable.
    public func redisConfiguration() throws(ConfigurationError) -> RedisConfiguration {
        let configuration: RedisConfiguration
        do {
            configuration = try RedisConfiguration(
                url: redisURL,
                password: redisPassword,
                sentinelUsername: sentinelUsername,
                sentinelPassword: sentinelPassword,
                tls: redisTLS == RedisConfiguration.TLS() ? nil : redisTLS
            )
        } catch {
            throw ConfigurationError("IDOCR_REDIS_URL: \(error)")
        }
        if let tls = configuration.tls {
            do {
                try tls.validate()
            } catch {
                throw ConfigurationError("IDOCR_REDIS_TLS_*: \(error.message)")
            }
        }
        return configuration
    }

    /// The longest duration any setting may give, in seconds: a week.
    public static let longestDuration: Double = 604_800

    /// Rejects values that cannot work, saying which setting to fix.
    public func validate() throws(ConfigurationError) {
        guard concurrency >= 1 && concurrency <= 10_000 else {
            throw ConfigurationError("IDOCR_CONCURRENCY must be 1...10000")
        }
        guard rateLimit >= 0 else {
            throw ConfigurationError("IDOCR_RATE_LIMIT must be 0 (none) or a positive number of calls per second")
        }
        guard maxAttempts >= 1 else { throw ConfigurationError("IDOCR_MAX_ATTEMPTS must be at least 1") }
        guard resultTTL >= 1 else { throw ConfigurationError("IDOCR_RESULT_TTL must be at least 1 second") }
        guard shutdownGrace >= 0 else { throw ConfigurationError("IDOCR_SHUTDOWN_GRACE must not be negative") }
        guard (0...65535).contains(metricsPort) else {
            throw ConfigurationError("IDOCR_METRICS_PORT must be 0...65535")
        }
        guard retryBase > 0, retryCap >= retryBase else {
            throw ConfigurationError("IDOCR_RETRY_BASE must be > 0 and IDOCR_RETRY_CAP at least as large")
        }
        guard recognizerTimeout > 0 else {
            throw ConfigurationError("IDOCR_OCR_TIMEOUT must be a positive number of seconds")
        }
        guard heartbeatTimeout >= 3 else {
            throw ConfigurationError("IDOCR_HEARTBEAT_TIMEOUT must be at least 3 seconds")
        }
        // Durations become whole milliseconds or microseconds; past a week they would be mistakes,
        // and past Int64 they would trap instead of being refused.
        for (name, seconds) in [
            ("IDOCR_SHUTDOWN_GRACE", shutdownGrace), ("IDOCR_RETRY_BASE", retryBase), ("IDOCR_RETRY_CAP", retryCap),
            ("IDOCR_HEARTBEAT_TIMEOUT", heartbeatTimeout), ("IDOCR_RATE_COOLDOWN", rateCoolDown),
            ("IDOCR_OCR_TIMEOUT", recognizerTimeout),
        ] where !(seconds <= Self.longestDuration) {
            throw ConfigurationError("\(name) must be at most \(Int(Self.longestDuration)) seconds (a week)")
        }
        guard rateLimit == 0 || (0.001...1_000_000).contains(rateLimit) else {
            throw ConfigurationError("IDOCR_RATE_LIMIT must be 0 (none) or 0.001...1000000 calls per second")
        }
        guard Self.isValidKeyPart(keyPrefix), Self.isValidKeyPart(queue) else {
            throw ConfigurationError("IDOCR_KEY_PREFIX and IDOCR_QUEUE must be non-empty and free of {, } and spaces")
        }
        if let rateBudget, !Self.isValidKeyPart(rateBudget) {
            throw ConfigurationError("IDOCR_RATE_BUDGET must be free of {, } and spaces")
        }
        guard Self.isValidKeyPart(workerID) else {
            throw ConfigurationError("IDOCR_WORKER_ID must be free of {, } and spaces")
        }
    }

    /// The queues this process serves: `IDOCR_QUEUES`, or `IDOCR_QUEUE` alone.
    public var servedQueues: [WeightedQueue] { queues.isEmpty ? [WeightedQueue(name: queue)] : queues }

    /// This configuration for the service of one of ``servedQueues``.
    public func serving(_ name: String) -> WorkerConfiguration {
        var one = self
        one.queue = name
        return one
    }

    /// Where the fleet's rate schedule lives (see ``rateBudget``).
    public var rateKeys: RateKeys {
        if let rateBudget { return RateKeys(prefix: keyPrefix, budget: rateBudget) }
        if servedQueues.count == 1 { return RateKeys(queue: QueueKeys(prefix: keyPrefix, queue: servedQueues[0].name)) }
        return RateKeys(prefix: keyPrefix, budget: provider)
    }

    /// The fleet's rate gate for `IDOCR_RATE_LIMIT` and `IDOCR_RATE_COOLDOWN`; `nil` without a limit.
    public var rateGate: RateGate.Configuration? {
        rateLimit > 0
            ? RateGate.Configuration(limit: rateLimit, coolDown: .milliseconds(Int64(rateCoolDown * 1000))) : nil
    }

    static func isValidKeyPart(_ text: String) -> Bool {
        !text.isEmpty && !text.contains(where: { $0 == "{" || $0 == "}" || $0.isWhitespace })
    }

    static func defaultWorkerID() -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "worker"
        let suffix = String(UInt32.random(in: .min ... .max), radix: 36)
        return "\(host)-\(ProcessInfo.processInfo.processIdentifier)-\(suffix)"
    }
}

/// A setting that cannot be used; the message names the variable.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

package struct EnvironmentReader {
    package let environment: [String: String]

    package init(environment: [String: String]) { self.environment = environment }

    package func string(_ name: String) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    package func int(_ name: String) throws(ConfigurationError) -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text) else { throw ConfigurationError("\(name) must be a whole number, not \(text)") }
        return value
    }

    package func double(_ name: String) throws(ConfigurationError) -> Double? {
        guard let text = string(name) else { return nil }
        guard let value = Double(text), value.isFinite else {
            throw ConfigurationError("\(name) must be a number, not \(text)")
        }
        return value
    }

    package func bool(_ name: String) throws(ConfigurationError) -> Bool? {
        guard let text = string(name)?.lowercased() else { return nil }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError("\(name) must be 1 or 0, not \(text)")
        }
    }
}
