import Foundation
import IDCardContract
import IDCardQueue
import IDCardRecognition
import IDCardTestSupport
import IDCardWorker
import Testing

/// The self-hosted provider with nothing faked: a real recognition server (ours and the stock
/// rapidocr_api), a real redis-server, the worker, and the committed synthetic sample cards
/// (samples/).
@Suite(
    "RapidOCR provider end to end",
    .serialized,
    .enabled(if: RapidOCRServer.shouldTest, "needs the recognition servers: run scripts/setup (scripts/test does)")
)
struct RapidOCRTests {
    static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("samples")

    struct Sample {
        let file: String
        let side: String
        let body: [String: String]
        let quality: [String]
        /// What the pixels should raise (the generator's labels); the stock server measures none,
        /// and only a single-channel file's `copy` comes from the file itself.
        let warnings: [String]
        var data: Data { get throws { try Data(contentsOf: RapidOCRTests.samples.appendingPathComponent(file)) } }
    }

    static func loadSamples() throws -> [Sample] {
        let text = try String(contentsOf: samples.appendingPathComponent("truth.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try #require(JSONValue.parse(Data(line.utf8))?.objectValue)
            let body = try #require(object["body"]?.objectValue)
            return Sample(
                file: try #require(object["file"]?.stringValue),
                side: try #require(object["side"]?.stringValue),
                body: body.compactMapValues(\.stringValue),
                quality: body["quality"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                warnings: object["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
            )
        }
    }

    /// A redis-server, a recognition server and a worker configured for them while `body` runs.
    static func withLocalProvider<T: Sendable>(
        _ kind: RapidOCRServer.Kind = .ours,
        server environment: [String: String] = [:],
        name: String = #function,
        configure: (inout WorkerConfiguration) -> Void = { _ in },
        _ body: @Sendable (WorkerConfiguration, JobQueue, RapidOCRServer) async throws -> T
    ) async throws -> T {
        let server = try await RapidOCRServer.start(kind, environment: environment)
        let outcome = await Result {
            try await Harness.withRedis { redis in
                var configuration = Harness.configuration(
                    redis: redis,
                    queue: Harness.uniqueQueue(name),
                    fakeURL: "http://127.0.0.1:1/unused"
                )
                configuration.provider = "rapidocr"
                configuration.rapidOCRURL = server.url
                configuration.recognizerTimeout = 60
                configuration.concurrency = 4
                configure(&configuration)
                let producer = try Harness.openQueue(configuration)
                let frozen = configuration
                let outcome = await Result {
                    try await Harness.withWorker(frozen) { _ in try await body(frozen, producer, server) }
                }
                await producer.shutdown()
                return try outcome.get()
            }
        }
        await server.stop()
        return try outcome.get()
    }

    @Test(
        "every sample card is read right, its side detected, quality flagged only from evidence in the file",
        arguments: RapidOCRServer.Kind.allCases
    )
    func samplesAreRead(server: RapidOCRServer.Kind) async throws {
        let samples = try Self.loadSamples()
        #expect(samples.count >= 8)
        try await Self.withLocalProvider(server) { _, producer, _ in
            for (index, sample) in samples.enumerated() {
                let job = Job(
                    id: "sample-\(index)",
                    image: .base64(encoding: try sample.data),
                    side: .detect,
                    needQuality: true
                )
                try await producer.enqueue(job)
            }
            for (index, sample) in samples.enumerated() {
                let result = try await Harness.waitForResult(producer, id: "sample-\(index)", timeout: 120)
                #expect(result.status == .succeeded, "\(sample.file): \(String(describing: result.error))")
                #expect(result.provider == "rapidocr")
                let body = result.body?.objectValue ?? [:]
                for (field, expected) in sample.body {
                    #expect(body[field]?.stringValue == expected, "\(sample.file) \(field)")
                }
                #expect(
                    body["quality"]?.arrayValue?.compactMap(\.stringValue) == sample.quality,
                    "\(sample.file) quality"
                )
                #expect(body["flag"] == .bool(true) && body["ret_code"] == .int(0))
                let warnings = server == .ours ? sample.warnings : sample.quality.filter { $0 == "copy" }
                #expect((result.warnings ?? []) == warnings, "\(sample.file) warnings")
                if sample.side == "1" {
                    #expect(
                        result.checks?.idNoChecksum == true && result.checks?.birthdayMatchesIdNo == true
                            && result.checks?.sexMatchesIdNo == true
                    )
                } else {
                    #expect(result.checks?.validityPeriodPlausible == true)
                }
            }
        }
    }

    @Test("no card, a cut-short file and a loopback imgUrl each end with their code; the allowed URL is read")
    func badInputAndURLs() async throws {
        let sample = try #require(try Self.loadSamples().first { $0.file.contains("front-clean") })
        let image = try sample.data
        try await FixedAnswerServer.serve(["/card.jpg": .init(headers: ["Content-Type": "image/jpeg"], body: image)]) {
            base,
            _ in
            try await Self.withLocalProvider { _, producer, _ in
                try await producer.enqueue([
                    Job(id: "blank", image: .base64(encoding: ImageBytes.bmp(width: 400, height: 250, blank: true))),
                    Job(id: "cut", image: .base64(encoding: image.prefix(image.count - 2000))),
                    Job(id: "loopback", image: .url(base + "/card.jpg")),
                ])
                let expected: [(String, ErrorCode)] = [
                    ("blank", .notRecognized), ("cut", .imageUnreadable), ("loopback", .urlForbidden),
                ]
                for (id, code) in expected {
                    let result = try await Harness.waitForResult(producer, id: id, timeout: 60)
                    #expect(
                        result.status == .failed && result.error?.code == code,
                        "\(id): \(String(describing: result.error))"
                    )
                    #expect(result.attempts == 1, "\(id) must not be retried")
                }
                #expect(try await producer.stats().dead == 3)
            }
            try await Self.withLocalProvider(configure: { $0.allowPrivateURLs = true }) { _, producer, _ in
                try await producer.enqueue(Job(id: "allowed", image: .url(base + "/card.jpg"), side: .portrait))
                let result = try await Harness.waitForResult(producer, id: "allowed", timeout: 60)
                #expect(result.status == .succeeded)
                #expect(result.body?["idNo"]?.stringValue == sample.body["idNo"])
            }
        }
    }

    @Test("our server past its queue answers 503 busy; the worker waits its Retry-After and every job succeeds")
    func busyIsRetried() async throws {
        let sample = try #require(try Self.loadSamples().first { $0.file.contains("front-clean") })
        let image = try sample.data
        // No request may wait: of 4 asked at once, 3 are turned away. Every job is a call (the
        // same image's reading is not reused), and a busy answer is an attempt: enough of them.
        try await Self.withLocalProvider(
            server: ["IDOCR_RECOGNIZER_QUEUE": "0"],
            configure: {
                $0.dedupeImages = false
                $0.maxAttempts = 20
            }
        ) { _, producer, server in
            let count = 8
            try await producer.enqueue((0..<count).map { Job(id: "busy-\($0)", image: .base64(encoding: image)) })
            var attempts: [Int] = []
            for index in 0..<count {
                let result = try await Harness.waitForResult(producer, id: "busy-\(index)", timeout: 120)
                #expect(result.status == .succeeded, "busy-\(index): \(String(describing: result.error))")
                #expect(result.body?["idNo"]?.stringValue == sample.body["idNo"])
                attempts.append(result.attempts)
            }
            #expect(attempts.contains { $0 > 1 }, "some job was turned away first: \(attempts)")
            let metrics = String(
                decoding: try Harness.run(["curl", "-s", "http://127.0.0.1:\(server.port)/metrics"]),
                as: UTF8.self
            )
            let busy = metrics.split(separator: "\n").first {
                $0.hasPrefix("idocr_recognizer_requests_total{outcome=\"busy\"}")
            }
            #expect((busy?.split(separator: " ").last).flatMap { Double($0) } ?? 0 > 0, "\(metrics)")
            #expect(try await producer.stats().dead == 0)
        }
    }

    @Test(
        "not_recognized says why: a card too blurred to read [blurred]; an emblem asked as a portrait [reversed_side]"
    )
    func notRecognizedSaysWhy() async throws {
        let sample = try #require(try Self.loadSamples().first { $0.file.contains("front-clean") })
        let emblem = try #require(try Self.loadSamples().first { $0.file.contains("back-clean") })
        let blurred = FileManager.default.temporaryDirectory.appendingPathComponent("blurred-\(UUID().uuidString).jpg")
        defer { try? FileManager.default.removeItem(at: blurred) }
        _ = try Harness.run([
            Harness.venv + "python", "-c",
            "import sys; from PIL import Image, ImageFilter; "
                + "Image.open(sys.argv[1]).filter(ImageFilter.GaussianBlur(7)).save(sys.argv[2], quality=90)",
            Self.samples.appendingPathComponent(sample.file).path, blurred.path,
        ])
        let image = try Data(contentsOf: blurred)
        try await Self.withLocalProvider { _, producer, _ in
            try await producer.enqueue([
                Job(id: "blurred", image: .base64(encoding: image), side: .portrait),
                Job(id: "reversed", image: .base64(encoding: try emblem.data), side: .portrait),
            ])
            let result = try await Harness.waitForResult(producer, id: "blurred", timeout: 60)
            #expect(
                result.status == .failed && result.error?.code == .notRecognized,
                "\(String(describing: result.error))"
            )
            #expect(result.warnings == ["blurred"])
            #expect(result.error?.message.contains("blurred") == true)
            let reversed = try await Harness.waitForResult(producer, id: "reversed", timeout: 60)
            #expect(reversed.status == .failed && reversed.error?.code == .notRecognized)
            #expect(reversed.warnings == ["reversed_side"])
            #expect(reversed.error?.message.contains("shows the emblem side") == true)
        }
    }
}
