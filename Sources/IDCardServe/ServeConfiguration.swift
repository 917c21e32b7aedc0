import IDCardWorker

/// How `idcard-ocr serve` listens and what it allows; Redis, the key prefix, the result TTL and
/// encryption keys come from the worker's settings (``WorkerConfiguration``), so both sides of a
/// queue read one set of variables.
public struct ServeConfiguration: Sendable {
    /// `IDOCR_SERVE_HOST`: the address to listen on. Default every interface.
    public var host = "0.0.0.0"
    /// `IDOCR_SERVE_PORT`: default 8080.
    public var port = 8080
    /// `IDOCR_SERVE_KEYS_FILE`: the API keys (``APIKeyring``); required.
    public var keysFile: String?
    /// `IDOCR_SERVE_KEYS_RELOAD`: seconds between looks at the keys file for a change, which
    /// then takes effect without a restart (``KeysFile``). Default 10; 0 reads it at start only.
    public var keysReloadInterval: Duration = .seconds(10)
    /// `IDOCR_SERVE_TLS_CERT_FILE`: serve HTTPS with this PEM certificate chain (the server's
    /// certificate first), for where no ingress or sidecar terminates TLS. Default none: plain
    /// HTTP. Read at start: roll the process when the certificate is renewed.
    public var tlsCertificateFile: String?
    /// `IDOCR_SERVE_TLS_KEY_FILE`: the PEM private key of ``tlsCertificateFile``.
    public var tlsKeyFile: String?
    /// `IDOCR_SERVE_QUEUE`: the queue requests' jobs go to. Default the worker's `IDOCR_QUEUE`;
    /// give synchronous traffic a queue of its own (`realtime`) and the workers a higher weight for
    /// it (`IDOCR_QUEUES=realtime:6,idcard:1`), so a backlog does not make requests time out.
    public var queue: String?
    /// `IDOCR_SERVE_ANSWER_TIMEOUT`: seconds a `POST /1429-1` waits for its job before answering
    /// `-3` (the job goes on). Default 20, below a typical client's 30 s.
    public var answerTimeout: Duration = .seconds(20)
    /// `IDOCR_SERVE_UPLOAD_TIMEOUT`: seconds a request's whole body may take to arrive; a slower
    /// upload gets 408 and its connection is closed. Default 30.
    public var uploadTimeout: Duration = .seconds(30)
    /// `IDOCR_SERVE_IDLE_TIMEOUT`: seconds a connection may sit without a complete request head
    /// (or idle between kept-alive requests) before it is closed. Default 15.
    public var idleTimeout: Duration = .seconds(15)
    /// `IDOCR_SERVE_MAX_BODY_BYTES`: the largest request body; larger gets 413. Default 8 MiB:
    /// a 4 MiB image in base64, form-escaped.
    public var maxBodyBytes = 8 * 1024 * 1024
    /// `IDOCR_SERVE_MAX_BATCH`: jobs in one `POST /v1/jobs`. Default 100.
    public var maxBatch = 100
    /// `IDOCR_SERVE_MAX_WAIT`: the longest `?wait=` of `GET /v1/jobs/{id}`. Default 30 s.
    public var maxWait: Duration = .seconds(30)
    /// `IDOCR_SERVE_MAX_IN_FLIGHT`: requests handled at once; more are answered at once (1429-1
    /// code -1, HTTP 503), so memory stays bounded whatever the load. Default 4096.
    public var maxInFlight = 4096

    public init() {}

    public init(environment: [String: String]) throws(ConfigurationError) {
        let reader = EnvironmentReader(environment: environment)
        host = reader.string("IDOCR_SERVE_HOST") ?? host
        port = try reader.int("IDOCR_SERVE_PORT") ?? port
        keysFile = reader.string("IDOCR_SERVE_KEYS_FILE")
        queue = reader.string("IDOCR_SERVE_QUEUE")
        keysReloadInterval = try reader.double("IDOCR_SERVE_KEYS_RELOAD").map(Self.duration) ?? keysReloadInterval
        tlsCertificateFile = reader.string("IDOCR_SERVE_TLS_CERT_FILE")
        tlsKeyFile = reader.string("IDOCR_SERVE_TLS_KEY_FILE")
        answerTimeout = try reader.double("IDOCR_SERVE_ANSWER_TIMEOUT").map(Self.duration) ?? answerTimeout
        uploadTimeout = try reader.double("IDOCR_SERVE_UPLOAD_TIMEOUT").map(Self.duration) ?? uploadTimeout
        idleTimeout = try reader.double("IDOCR_SERVE_IDLE_TIMEOUT").map(Self.duration) ?? idleTimeout
        maxBodyBytes = try reader.int("IDOCR_SERVE_MAX_BODY_BYTES") ?? maxBodyBytes
        maxBatch = try reader.int("IDOCR_SERVE_MAX_BATCH") ?? maxBatch
        maxWait = try reader.double("IDOCR_SERVE_MAX_WAIT").map(Self.duration) ?? maxWait
        maxInFlight = try reader.int("IDOCR_SERVE_MAX_IN_FLIGHT") ?? maxInFlight
    }

    /// Refuses values that cannot work, naming the setting.
    public func validate() throws(ConfigurationError) {
        guard (0...65535).contains(port) else { throw ConfigurationError("IDOCR_SERVE_PORT must be 0-65535") }
        guard keysFile != nil else {
            throw ConfigurationError(
                "IDOCR_SERVE_KEYS_FILE (--keys-file) is required: serve answers only clients with a key"
            )
        }
        guard (tlsCertificateFile == nil) == (tlsKeyFile == nil) else {
            throw ConfigurationError("IDOCR_SERVE_TLS_CERT_FILE and IDOCR_SERVE_TLS_KEY_FILE go together: give both")
        }
        guard keysReloadInterval >= .zero, keysReloadInterval <= Self.duration(WorkerConfiguration.longestDuration)
        else {
            throw ConfigurationError("IDOCR_SERVE_KEYS_RELOAD must be 0 (never) or up to a week of seconds")
        }
        for (name, value) in [
            ("IDOCR_SERVE_ANSWER_TIMEOUT", answerTimeout), ("IDOCR_SERVE_UPLOAD_TIMEOUT", uploadTimeout),
            ("IDOCR_SERVE_IDLE_TIMEOUT", idleTimeout), ("IDOCR_SERVE_MAX_WAIT", maxWait),
        ] where value <= .zero || value > Self.duration(WorkerConfiguration.longestDuration) {
            throw ConfigurationError(
                "\(name) must be more than 0 and at most \(Int(WorkerConfiguration.longestDuration)) seconds"
            )
        }
        guard maxBodyBytes >= 1024 else { throw ConfigurationError("IDOCR_SERVE_MAX_BODY_BYTES must be at least 1024") }
        guard maxBatch >= 1 else { throw ConfigurationError("IDOCR_SERVE_MAX_BATCH must be at least 1") }
        guard maxInFlight >= 1 else { throw ConfigurationError("IDOCR_SERVE_MAX_IN_FLIGHT must be at least 1") }
    }

    /// Seconds as a `Duration` of whole milliseconds, clamped to ±10⁹ s so that no input traps;
    /// ``validate()`` then refuses what is over ``WorkerConfiguration/longestDuration``.
    public static func duration(_ seconds: Double) -> Duration {
        .milliseconds(Int64((min(max(seconds, -1e9), 1e9) * 1000).rounded()))
    }
}
