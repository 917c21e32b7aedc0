import Foundation
import Hummingbird
import IDCardContract
import IDCardServe
import IDCardWorker
import Logging
import Metrics
import Prometheus

/// The executable's side of telemetry: it picks the log handler and the metrics backend;
/// the libraries only speak swift-log and swift-metrics.
enum Telemetry {
    static let registry = PrometheusCollectorRegistry()

    /// JSON lines on stdout for the worker, plain text on stderr for the short commands.
    static func bootstrap(service: String) -> Logger {
        let level =
            ProcessInfo.processInfo.environment["IDOCR_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) }
            ?? .info
        LoggingSystem.bootstrap { label in
            var handler = JSONLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = histogramBuckets
        factory.durationHistogramBuckets["idocr_answer_to_result_seconds"] = overheadBuckets
        MetricsSystem.bootstrap(factory)
        return Logger(label: "idcard-ocr.\(service)")
    }

    /// From 10 ms (a cached answer) to 60 s (a slow API under retries): OCR latencies.
    static let histogramBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250),
        .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]

    /// The registry's Prometheus text with a `# HELP` line before each of our metrics' `# TYPE` line.
    static func exposition() -> String {
        let text = String(decoding: registry.emitToBuffer(), as: UTF8.self)
        var out = ""
        out.reserveCapacity(text.utf8.count + 1024)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), let name = line.split(separator: " ").dropFirst(2).first,
                let help =
                    WorkerMetrics.help[String(name)] ?? ServeMetrics.help[String(name)]
                    ?? KeysFile.help[String(name)]
            {
                out += "# HELP \(name) \(help)\n"
            }
            out += line + "\n"
        }
        return String(out.dropLast())
    }

    /// From 0.1 ms to 100 ms: the worker's own work between an answer and its stored result.
    static let overheadBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(1500),
        .milliseconds(2),
        .milliseconds(3), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(100),
    ]

    /// `/metrics` (Prometheus text), `/healthz` (alive), `/readyz` (Redis reachable and not paused).
    static func metricsServer(port: Int, health: WorkerHealth, logger: Logger) -> some ApplicationProtocol {
        let router = Router()
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: exposition()))
            )
        }
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ in
            health.isReady
                ? Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "ready\n")))
                : Response(
                    status: .serviceUnavailable,
                    body: ResponseBody(
                        byteBuffer: ByteBuffer(string: "not ready: \(health.notReadyReason ?? "unknown")\n")
                    )
                )
        }
        var serverLogger = logger
        serverLogger.logLevel = .warning
        return Application(
            router: router,
            configuration: .init(address: .hostname("0.0.0.0", port: port)),
            logger: serverLogger
        )
    }
}
