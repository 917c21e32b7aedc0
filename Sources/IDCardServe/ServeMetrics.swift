import Metrics
import NIOConcurrencyHelpers

/// `serve`'s metrics, beside the worker's on the same `/metrics`: requests by endpoint and the
/// code they were answered with (the 1429-1 gateway code, `biz` for a business failure, or the
/// HTTP status of the jobs API), their latency, and the requests in flight.
public struct ServeMetrics: Sendable {
    public static let help: [String: String] = [
        "idocr_serve_requests_total":
            "Requests answered by serve, by endpoint and code (1429-1 gateway code or biz, jobs API HTTP status).",
        "idocr_serve_request_duration_seconds": "From a request's head to its answer, by endpoint.",
        "idocr_serve_requests_in_flight": "Requests serve is handling now.",
    ]

    /// The endpoints as labelled.
    public enum Endpoint: String, Sendable, CaseIterable {
        case showAPI = "1429-1"
        case submitJobs = "jobs_submit"
        case getJob = "jobs_get"
    }

    private let counters = NIOLockedValueBox([String: Counter]())
    private let durations: [Endpoint: Timer]
    private let inFlightGauge = Gauge(label: "idocr_serve_requests_in_flight")

    public init() {
        durations = Dictionary(
            uniqueKeysWithValues: Endpoint.allCases.map {
                ($0, Timer(label: "idocr_serve_request_duration_seconds", dimensions: [("endpoint", $0.rawValue)]))
            }
        )
    }

    func answered(_ endpoint: Endpoint, code: String, after duration: Duration) {
        let key = endpoint.rawValue + "|" + code
        let counter = counters.withLockedValue { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: "idocr_serve_requests_total",
                dimensions: [("endpoint", endpoint.rawValue), ("code", code)]
            )
            counters[key] = counter
            return counter
        }
        counter.increment()
        durations[endpoint]?.recordNanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        )
    }

    func inFlight(_ count: Int) { inFlightGauge.record(count) }
}
