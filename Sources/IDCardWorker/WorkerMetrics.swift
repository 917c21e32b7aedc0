import IDCardContract
import IDCardQueue
import Metrics

/// The contract's metrics (docs/contract.md, "Metrics"), through swift-metrics; the executable picks the backend.
public struct WorkerMetrics: Sendable {
    /// Each metric's `# HELP` text. swift-metrics carries no help text, so the executable adds
    /// these to the Prometheus exposition (promtool rejects metrics without them).
    public static let help: [String: String] = [
        "idocr_queue_length": "Jobs in the queue by state (pending, processing, delayed, dead), sampled from Redis.",
        "idocr_jobs_total": "Jobs ended by this process, by outcome (succeeded, failed, retried, deduplicated).",
        "idocr_job_duration_seconds": "From this process taking a job to its result (or retry) being written.",
        "idocr_queue_latency_seconds": "From the producer's enqueuedAt to a worker taking the job.",
        "idocr_ocr_requests_total": "Recognizer calls by provider and outcome (ok, an error code, or account).",
        "idocr_ocr_request_duration_seconds": "Duration of one recognizer call, by provider.",
        "idocr_rate_limit_wait_seconds": "Time a job waited for its slot of the fleet's rate limit.",
        "idocr_rate_late_calls_total":
            """
        Rate-limited calls that went out more than 5 ms after their slot, which had the fleet's next slots pushed \
        back.
        """,
        "idocr_worker_ready": "1 while connected to Redis and not paused by an account or configuration error.",
        "idocr_answer_to_result_seconds":
            "The worker's own overhead: from the recognizer's answer to the result stored in Redis.",
        "idocr_ocr_unanswered_total":
            """
        Recognizer calls sent whole that got no answer (timeout, lost connection, shutdown): each may have been \
        billed, and its retry may pay again.
        """,
        "idocr_remembered_unreadable_total":
            """
        Remembered recognitions of identical bytes that could not be read (corrupt, or sealed with a key not \
        given): each job recognized again, and paid.
        """,
    ]

    enum JobOutcome: String, CaseIterable {
        case succeeded, failed, retried, deduplicated
    }

    let queue: String
    let provider: String
    let jobDuration: Timer
    let queueLatency: Timer
    let ocrDuration: Timer
    let rateLimitWait: Timer
    /// *Extension*: calls that left late after their rate slot (see `WorkerService+LateCalls`).
    let rateLateCalls: Counter
    /// *Extension*: the worker's overhead after a paid answer, the part of a job's time it owns.
    let answerToResult: Timer
    /// *Extension*: calls sent whole without an answer: the possible double payments.
    let ocrUnanswered: Counter
    /// *Extension*: remembered recognitions found unreadable, each paid for again; after a key
    /// rotation that dropped an old key too soon, this climbs.
    let rememberedUnreadable: Counter
    private let jobs: [String: Counter]
    private let ocrRequests: [String: Counter]
    private let queueLengths: [String: Gauge]

    init(queue: String, provider: String) {
        self.queue = queue
        self.provider = provider
        jobDuration = Timer(label: "idocr_job_duration_seconds", dimensions: [("queue", queue)])
        queueLatency = Timer(label: "idocr_queue_latency_seconds", dimensions: [("queue", queue)])
        ocrDuration = Timer(label: "idocr_ocr_request_duration_seconds", dimensions: [("provider", provider)])
        rateLimitWait = Timer(label: "idocr_rate_limit_wait_seconds", dimensions: [("queue", queue)])
        rateLateCalls = Counter(label: "idocr_rate_late_calls_total", dimensions: [("queue", queue)])
        answerToResult = Timer(label: "idocr_answer_to_result_seconds", dimensions: [("queue", queue)])
        ocrUnanswered = Counter(
            label: "idocr_ocr_unanswered_total",
            dimensions: [("queue", queue), ("provider", provider)]
        )
        rememberedUnreadable = Counter(label: "idocr_remembered_unreadable_total", dimensions: [("queue", queue)])
        jobs = Dictionary(
            uniqueKeysWithValues: JobOutcome.allCases.map {
                (
                    $0.rawValue,
                    Counter(label: "idocr_jobs_total", dimensions: [("queue", queue), ("outcome", $0.rawValue)])
                )
            }
        )
        ocrRequests = Dictionary(
            uniqueKeysWithValues: (["ok", "account"] + ErrorCode.allCases.map(\.rawValue)).map {
                ($0, Counter(label: "idocr_ocr_requests_total", dimensions: [("provider", provider), ("outcome", $0)]))
            }
        )
        queueLengths = Dictionary(
            uniqueKeysWithValues: ["pending", "processing", "delayed", "dead"].map {
                ($0, Gauge(label: "idocr_queue_length", dimensions: [("queue", queue), ("state", $0)]))
            }
        )
    }

    func count(_ outcome: JobOutcome) {
        jobs[outcome.rawValue]?.increment()
    }

    /// `outcome` is `ok` or a contract error code (`account` for account and configuration refusals).
    func ocrRequest(outcome: String, duration: Duration) {
        ocrRequests[outcome]?.increment()
        ocrDuration.record(duration: duration)
    }

    func queueLength(_ state: String, _ value: Int) {
        queueLengths[state]?.record(value)
    }
}

extension Timer {
    func record(duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
