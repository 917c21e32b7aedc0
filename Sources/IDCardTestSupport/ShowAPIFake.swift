import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// A fake of the paid 1429-1 API, for tests and benchmarks only: never a provider users can pick.
///
/// It answers like the real API (form POST, appKey in the query, the gateway's JSON), enforces a
/// strict calls-per-second limit over any sliding second (answering -1009 past it), and
/// misbehaves on request: per image through ``FakeImage`` scripts, or at random rates.
public final class ShowAPIFake: Sendable {
    public struct Configuration: Sendable {
        public var appKey = "test-app-key"
        /// Time before each answer.
        public var latency: Duration = .zero
        /// Calls accepted in any sliding second; beyond it the answer is -1009, at once (as a
        /// gateway answers, without the latency). `nil`: no limit.
        public var strictQPS: Int?
        /// Answer every call with -2 (calls or balance used up).
        public var quotaExhausted = false
        /// Answer every call with this HTTP status and no body (401: a gateway refusing the appKey).
        public var refuseEveryCall: Int?
        /// Random misbehaviour, each a probability per call.
        public var serverErrorRate = 0.0
        public var timeoutRate = 0.0
        public var rateLimitedRate = 0.0
        public var malformedRate = 0.0
        public var dropRate = 0.0
        /// How long a "timeout" answer takes.
        public var timeoutDuration: Duration = .seconds(60)

        public init() {}
    }

    /// What the fake saw. `billed` counts answers a real plan would charge for.
    public struct Stats: Sendable, Codable, Equatable {
        public var calls = 0
        /// Decided at a call's arrival, before its answer's latency.
        public var billed = 0
        /// Answers sent back so far (after their latency).
        public var answered = 0
        public var rejectedForRate = 0
        public var wrongAppKey = 0
        /// Images answered with a billed answer more than once: calls paid twice.
        public var duplicateBilled = 0
        /// Distinct images answered with a billed answer: `billed - imagesBilled` calls were paid again.
        public var imagesBilled = 0
        /// Most billed calls seen in any one-second window.
        public var maxPerSecond = 0
        /// For each call refused for rate: seconds since the first call, and how much shorter
        /// than 1 s the span of the calls it would have joined was (ms): how bunched they arrived.
        public var rejections: [Rejection] = []
        /// When each billed call arrived, and each call answered "rate limited" (-1009 or 429, by
        /// the limiter or a script): seconds since the first call.
        public var billedAt: [Double] = []
        public var rateLimitedAt: [Double] = []

        public struct Rejection: Sendable, Codable, Equatable {
            public var atSeconds: Double
            public var bunchedMilliseconds: Double
        }
    }

    struct State {
        var configuration: Configuration
        var stats = Stats()
        var window: [ContinuousClock.Instant] = []
        var billedTimes: [ContinuousClock.Instant] = []
        var firstCall: ContinuousClock.Instant?
        var callsPerImage: [Data: Int] = [:]
        var billedPerImage: [Data: Int] = [:]
    }

    private let state: NIOLockedValueBox<State>

    public init(configuration: Configuration = Configuration()) {
        state = NIOLockedValueBox(State(configuration: configuration))
    }

    public func update(_ change: (inout Configuration) -> Void) {
        state.withLockedValue { change(&$0.configuration) }
    }

    public var stats: Stats {
        state.withLockedValue { state in
            var stats = state.stats
            stats.maxPerSecond = Self.maxInAnySecond(state.billedTimes)
            if let first = state.firstCall { stats.billedAt = state.billedTimes.map { ($0 - first) / .seconds(1) } }
            return stats
        }
    }

    /// Serves on 127.0.0.1 (`port` 0: any free port) while `body` runs.
    /// - Parameter tls: serves https with it, at `https://localhost:PORT/1429-1`.
    public func serve<T: Sendable>(
        port: Int = 0,
        tls: TLSConfiguration? = nil,
        _ body: @Sendable (_ url: String) async throws -> T
    ) async throws -> T {
        try await LoopbackServer.serve(makeRouter(), port: port, tls: tls) { port in
            try await body(tls == nil ? "http://127.0.0.1:\(port)/1429-1" : "https://localhost:\(port)/1429-1")
        }
    }

    /// Serves until the task is cancelled (the `showapi-fake` executable).
    /// - Parameter tls: serves https with it; `nil`: plain http.
    public func serveForever(
        port: Int,
        tls: TLSConfiguration? = nil,
        onStart: @escaping @Sendable (Int) -> Void
    ) async throws {
        let app = Application(
            router: makeRouter(),
            server: try LoopbackServer.server(tls: tls),
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { channel in onStart(channel.localAddress?.port ?? 0) },
            logger: LoopbackServer.quiet
        )
        try await app.runService()
    }

    private func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/1429-1") { request, _ in
            let body = try await request.body.collect(upTo: 64 << 20)
            let form = Self.parseForm(Data(body.readableBytesView))
            return try await self.answer(appKey: request.uri.queryParameters.get("appKey"), form: form)
        }
        router.get("/stats") { _, _ in
            let data = (try? JSONEncoder().encode(self.stats)) ?? Data()
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
            )
        }
        return router
    }

    private enum Answer {
        case json(status: HTTPResponse.Status, String)
        case wait(Duration, then: String)
        case drop
    }

    /// Thrown mid-answer, so the server closes the connection on a half-written body.
    struct DroppedConnection: Error {}

    private func answer(appKey: String?, form: [String: String]) async throws -> Response {
        let arrival = ContinuousClock.now
        let image = form["imgData"].flatMap { Data(base64Encoded: $0) } ?? Data((form["imgUrl"] ?? "").utf8)
        let fake = FakeImage.read(image)
        let decision: (answer: Answer, latency: Duration) = state.withLockedValue { state in
            let configuration = state.configuration
            state.stats.calls += 1
            guard appKey == configuration.appKey else {
                state.stats.wrongAppKey += 1
                return (.json(status: .ok, Self.gateway(code: -1004, error: "sign invalid")), configuration.latency)
            }
            if let status = configuration.refuseEveryCall {
                return (.json(status: HTTPResponse.Status(code: status), ""), configuration.latency)
            }
            if configuration.quotaExhausted {
                return (.json(status: .ok, Self.gateway(code: -2, error: "calls used up")), configuration.latency)
            }
            let firstCall = state.firstCall ?? arrival
            state.firstCall = firstCall
            if let limit = configuration.strictQPS {
                state.window.removeAll { arrival - $0 >= .seconds(1) }
                if state.window.count >= limit {
                    state.stats.rejectedForRate += 1
                    state.stats.rateLimitedAt.append((arrival - firstCall) / .seconds(1))
                    let span = arrival - (state.window.min() ?? arrival)
                    state.stats.rejections.append(
                        .init(
                            atSeconds: (arrival - firstCall) / .seconds(1),
                            bunchedMilliseconds: (.seconds(1) - span) / .milliseconds(1)
                        )
                    )
                    // At once, as a gateway refuses before any backend is involved.
                    return (.json(status: .ok, Self.gateway(code: -1009, error: "rate limited")), .zero)
                }
                state.window.append(arrival)
            }
            let callNumber = state.callsPerImage[image, default: 0]
            state.callsPerImage[image] = callNumber + 1
            var step = fake.flatMap { callNumber < $0.script.count ? $0.script[callNumber] : nil } ?? .ok
            if step == .ok {
                let roll = Double.random(in: 0..<1)
                let rates = [
                    (configuration.serverErrorRate, FakeImage.Step.serverError), (configuration.timeoutRate, .timeout),
                    (configuration.rateLimitedRate, .rateLimited), (configuration.malformedRate, .malformed),
                    (configuration.dropRate, .drop),
                ]
                var threshold = 0.0
                for (rate, candidate) in rates {
                    threshold += rate
                    if roll < threshold {
                        step = candidate
                        break
                    }
                }
            }
            switch step {
            case .ok, .notRecognized:
                state.stats.billed += 1
                state.billedTimes.append(arrival)
                let billed = state.billedPerImage[image, default: 0] + 1
                state.billedPerImage[image] = billed
                if billed == 1 { state.stats.imagesBilled += 1 }
                if billed == 2 { state.stats.duplicateBilled += 1 }
                if step == .notRecognized {
                    return (
                        .json(status: .ok, Self.success(["ret_code": -1, "flag": false, "msg": "未识别到身份证"])),
                        configuration.latency
                    )
                }
                var body: [String: Any] = [
                    "ret_code": 0, "flag": true, "msg": "识别成功!", "headImgBase64": "若需要该字段值请使用身份证识别返照接口",
                ]
                for (key, value) in fake?.card ?? [:] { body[key] = value }
                if form["needQuality"] == "1" { body["quality"] = ["photo"] }
                if let type = form["type"], body["type"] == nil { body["type"] = type }
                return (.json(status: .ok, Self.success(body)), configuration.latency)
            case .serverError:
                return (.json(status: .badGateway, "<html>502 Bad Gateway</html>"), configuration.latency)
            case .http429:
                state.stats.rateLimitedAt.append((arrival - firstCall) / .seconds(1))
                return (.json(status: .tooManyRequests, "{}"), configuration.latency)
            case .http403: return (.json(status: .forbidden, "<html>403 Forbidden</html>"), configuration.latency)
            case .rateLimited:
                state.stats.rateLimitedAt.append((arrival - firstCall) / .seconds(1))
                return (.json(status: .ok, Self.gateway(code: -1009, error: "rate limited")), configuration.latency)
            case .quotaExhausted:
                return (.json(status: .ok, Self.gateway(code: -2, error: "calls used up")), configuration.latency)
            case .malformed:
                return (
                    .json(status: .ok, "{\"showapi_res_code\":0,\"showapi_res_body\":{\"name\":"), configuration.latency
                )
            case .timeout:
                return (.wait(configuration.timeoutDuration, then: Self.gateway(code: -3, error: "late")), .zero)
            case .drop: return (.drop, configuration.latency)
            }
        }
        if decision.latency > .zero { try await Task.sleep(for: decision.latency) }
        state.withLockedValue { $0.stats.answered += 1 }
        switch decision.answer {
        case .json(let status, let text):
            return Response(
                status: status,
                headers: [.contentType: "application/json;charset=UTF-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text))
            )
        case .wait(let duration, let text):
            try await Task.sleep(for: duration)
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        case .drop:
            return Response(
                status: .ok,
                headers: [.contentLength: "4096"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "{\"showapi_res_code\":0,"))
                    throw DroppedConnection()
                }
            )
        }
    }

    private static func gateway(code: Int, error: String) -> String {
        json(["showapi_res_code": code, "showapi_res_error": error, "showapi_res_body": [String: Any]()])
    }

    private static func success(_ body: [String: Any]) -> String {
        json([
            "showapi_res_code": 0, "showapi_res_error": "", "showapi_res_id": UUID().uuidString,
            "showapi_res_body": body,
        ])
    }

    private static func json(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data(), as: UTF8.self)
    }

    static func maxInAnySecond(_ times: [ContinuousClock.Instant]) -> Int {
        let sorted = times.sorted()
        var best = 0
        var start = 0
        for end in sorted.indices {
            while sorted[end] - sorted[start] >= .seconds(1) { start += 1 }
            best = max(best, end - start + 1)
        }
        return best
    }

    static func parseForm(_ data: Data) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in data.split(separator: UInt8(ascii: "&")) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = parts.first else { continue }
            fields[percentDecode(name)] = parts.count > 1 ? percentDecode(parts[1]) : ""
        }
        return fields
    }

    private static func percentDecode(_ bytes: Data.SubSequence) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.endIndex + 0, let high = hexValue(bytes[index + 1]),
                let low = hexValue(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension Result where Failure == any Error {
    public init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
