import Foundation
import IDCardContract
import IDCardQueue
import IDCardServe
import IDCardTestSupport
import Testing

/// `idcard-ocr serve --worker` as a child process, asked by real clients: curl with the
/// command line of the 1429-1 documentation, and Python's `requests`.
@Suite(.serialized) struct ServeTests {
    struct Served: Sendable {
        let url: String
        let key: String
        /// A key the file marks `disabled`.
        let disabledKey: String
        /// Another client's key (`other`), without limits.
        let otherKey: String
        /// The keys file serve reads.
        let keysFile: URL
        let fake: ShowAPIFake
        /// serve's log file.
        let logURL: URL

        var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }
    }

    static func withServe(
        fake configuration: ShowAPIFake.Configuration = .init(),
        limits: String = "",
        extra: [String: String] = [:],
        name: String = #function,
        _ body: @Sendable (Served) async throws -> Void
    ) async throws {
        try await Harness.withRedis { redis in
            let fake = ShowAPIFake(configuration: configuration)
            try await fake.serve { url in
                let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "serve-\(UUID().uuidString)"
                )
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: directory) }
                let key = APIKeyring.newKey()
                let keysFile = directory.appendingPathComponent("keys.txt")
                let disabledKey = APIKeyring.newKey()
                let otherKey = APIKeyring.newKey()
                let lines = [
                    APIKeyring.line(name: "shop", key: key, settings: limits.split(separator: " ").map(String.init)),
                    APIKeyring.line(name: "old", key: disabledKey, settings: ["disabled"]),
                    APIKeyring.line(name: "other", key: otherKey, settings: []),
                ]
                try (lines.joined(separator: "\n") + "\n").write(to: keysFile, atomically: true, encoding: .utf8)
                let port = try FreePort.pick()
                var environment = ProcessTests.environment(redis: redis, queue: Harness.uniqueQueue(name), fakeURL: url)
                environment["IDOCR_SERVE_PORT"] = "\(port)"
                environment["IDOCR_SERVE_HOST"] = "127.0.0.1"
                environment["IDOCR_SERVE_KEYS_FILE"] = keysFile.path
                environment.merge(extra) { $1 }
                let process = try WorkerProcess(environment: environment, arguments: ["serve", "--worker"])
                try await Harness.eventually("serve listening") { process.log.contains("serve listening") }
                let served = Served(
                    url: "http://127.0.0.1:\(port)",
                    key: key,
                    disabledKey: disabledKey,
                    otherKey: otherKey,
                    keysFile: keysFile,
                    fake: fake,
                    logURL: process.logURL
                )
                let outcome = await Result { try await body(served) }
                process.signal(SIGTERM)
                let status = await process.waitForExit()
                try outcome.get()
                #expect(status == 0, "serve stops cleanly on SIGTERM")
                #expect(!process.log.contains(key), "serve never logs a key")
            }
        }
    }

    /// The documentation's curl line, unchanged but for the host: `-d` without escaping.
    static func curl(_ served: Served, appKey: String? = nil, imgData: String, type: String = "") throws -> JSONValue {
        let answer = try Harness.run([
            "curl", "-s", "\(served.url)/1429-1?appKey=\(appKey ?? served.key)",
            "-H", "Content-Type: application/x-www-form-urlencoded",
            "-d", "needQuality=1", "-d", "imgData=\(imgData)", "-d", "type=\(type)", "-d", "imgUrl=",
        ])
        return try #require(JSONValue.parse(answer), "not JSON: \(String(decoding: answer, as: UTF8.self))")
    }

    @Test("curl and Python requests get the 1429-1 envelope: fields, a business failure, gateway codes")
    func realClients() async throws {
        try await Self.withServe { served in
            let card = SyntheticCard.portrait()
            let image = FakeImage.make(card: card).base64EncodedString()
            let answer = try Self.curl(served, imgData: image)
            #expect(answer["showapi_res_code"] == .int(0))
            #expect(answer["showapi_res_error"] == .string(""))
            #expect(answer["showapi_res_id"]?.stringValue?.count == 32)
            let body = try #require(answer["showapi_res_body"])
            #expect(body["ret_code"] == .int(0))
            #expect(body["flag"] == .bool(true))
            #expect(body["msg"] == .string("识别成功!"))
            #expect(body["name"]?.stringValue == card["name"])
            #expect(body["idNo"]?.stringValue == card["idNo"])
            #expect(body["quality"] != nil)
            #expect(body["type"] == nil)

            let python = """
                import requests, sys
                r = requests.post(sys.argv[1] + "/1429-1", params={"appKey": sys.argv[2]},
                                  data={"imgData": sys.argv[3], "type": "1"}, timeout=30)
                print(r.status_code, r.text)
                """
            let other = FakeImage.make(card: SyntheticCard.portrait()).base64EncodedString()
            let printed = String(
                decoding: try Harness.run([Harness.venv + "python", "-c", python, served.url, served.key, other]),
                as: UTF8.self
            )
            #expect(printed.hasPrefix("200 "))
            let fromPython = try #require(JSONValue.parse(Data(printed.dropFirst(4).utf8)))
            #expect(fromPython["showapi_res_code"] == .int(0))
            #expect(fromPython["showapi_res_body"]?["flag"] == .bool(true))

            let refused = try Self.curl(
                served,
                imgData: FakeImage.make(card: card, script: [.notRecognized]).base64EncodedString()
            )
            #expect(refused["showapi_res_code"] == .int(0))
            #expect(refused["showapi_res_body"]?["flag"] == .bool(false))
            #expect(refused["showapi_res_body"]?["ret_code"] == .int(-1))

            #expect(try Self.curl(served, appKey: "unknown", imgData: image)["showapi_res_code"] == .int(-1010))
            #expect(try Self.curl(served, appKey: "", imgData: image)["showapi_res_code"] == .int(-1002))
            #expect(
                try Self.curl(served, appKey: served.disabledKey, imgData: image)["showapi_res_code"] == .int(-1011)
            )
            #expect(served.fake.stats.billed == 3)
        }
    }

    @Test("a request that times out (-3) leaves its job running; asking again answers from it, paid once")
    func timeoutThenRetryIsNotPaidTwice() async throws {
        try await Self.withServe(
            fake: {
                var fake = ShowAPIFake.Configuration()
                fake.latency = .milliseconds(1500)
                return fake
            }(),
            extra: ["IDOCR_SERVE_ANSWER_TIMEOUT": "0.3"]
        ) { served in
            let image = FakeImage.make(card: SyntheticCard.portrait()).base64EncodedString()
            #expect(try Self.curl(served, imgData: image)["showapi_res_code"] == .int(-3))
            // As a client does: ask again until answered; every ask after the first joins the
            // first job (or finds its result) and pays nothing.
            var again = JSONValue.null
            for _ in 0..<30 {
                again = try Self.curl(served, imgData: image)
                if again["showapi_res_code"] == .int(0) { break }
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(again["showapi_res_code"] == .int(0))
            #expect(again["showapi_res_body"]?["flag"] == .bool(true))
            #expect(served.fake.stats.billed == 1)
        }
    }

    @Test("over the key's rate: -1009; the jobs API queues, long-polls and keeps clients apart")
    func rateAndJobsAPI() async throws {
        try await Self.withServe(limits: "rate=1 burst=1") { served in
            var codes: [JSONValue?] = []
            for _ in 0..<8 { codes.append(try Self.curl(served, imgData: "AAAA")["showapi_res_code"]) }
            #expect(codes.contains(.int(-1009)))
            try await Task.sleep(for: .seconds(2))
            let image = FakeImage.make(card: SyntheticCard.portrait()).base64EncodedString()
            let job = "{\"id\":\"order-1\",\"imgData\":\"\(image)\",\"type\":\"1\"}"
            let posted = try Harness.run([
                "curl", "-s", "-X", "POST", "\(served.url)/v1/jobs", "-H", "Authorization: Bearer \(served.key)",
                "-H", "Content-Type: application/json", "-d", job,
            ])
            #expect(JSONValue.parse(posted)?["ids"] == .array([.string("order-1")]))
            try await Task.sleep(for: .seconds(1))
            let result = try Harness.run([
                "curl", "-s", "\(served.url)/v1/jobs/order-1?wait=10s", "-H", "X-API-Key: \(served.key)",
            ])
            #expect(JSONValue.parse(result)?["status"] == .string("succeeded"))
            #expect(JSONValue.parse(result)?["id"] == .string("order-1"))
            let stranger = try Harness.run(["curl", "-s", "\(served.url)/v1/jobs/order-1", "-H", "X-API-Key: other"])
            #expect(JSONValue.parse(stranger)?["error"]?["code"] == .string("unauthorized"))
            // Another client's valid key does not see this client's order-1: its ids are its own.
            let neighbour = try Harness.run([
                "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "\(served.url)/v1/jobs/order-1",
                "-H", "X-API-Key: \(served.otherKey)",
            ])
            #expect(String(decoding: neighbour, as: UTF8.self) == "404")
            let spec = try Harness.run(["curl", "-s", "\(served.url)/openapi.yaml"])
            #expect(String(decoding: spec, as: UTF8.self).hasPrefix("openapi: 3.1.0"))
        }
    }

    @Test("the key's quota: a new image past it is -2; the same image again is answered and not charged")
    func quota() async throws {
        try await Self.withServe(limits: "quota=1/day") { served in
            let first = FakeImage.make(card: SyntheticCard.portrait()).base64EncodedString()
            let answer = try Self.curl(served, imgData: first)
            #expect(answer["showapi_res_code"] == .int(0))
            let second = FakeImage.make(card: SyntheticCard.portrait()).base64EncodedString()
            #expect(try Self.curl(served, imgData: second)["showapi_res_code"] == .int(-2))
            #expect(try Self.curl(served, imgData: first)["showapi_res_code"] == .int(0))
            #expect(served.fake.stats.billed == 1)
        }
    }

    @Test(
        "keys file read again when changed: a key added works, one disabled is refused, a broken file is kept out"
    )
    func keysFileReload() async throws {
        try await Self.withServe(extra: ["IDOCR_SERVE_KEYS_RELOAD": "0.2"]) { served in
            let lines = try String(contentsOf: served.keysFile, encoding: .utf8)
            let late = APIKeyring.newKey()
            #expect(try Self.curl(served, appKey: late, imgData: "AAAA")["showapi_res_code"] == .int(-1010))
            let withLate = lines + APIKeyring.line(name: "late", key: late, settings: []) + "\n"
            try withLate.write(to: served.keysFile, atomically: true, encoding: .utf8)
            try await Harness.eventually("the new key is accepted") {
                try Self.curl(served, appKey: late, imgData: "AAAA")["showapi_res_code"] != .int(-1010)
            }
            let shopDisabled =
                withLate.replacingOccurrences(of: "shop sha256:", with: "# shop sha256:")
                + APIKeyring.line(name: "shop", key: served.key, settings: ["disabled"]) + "\n"
            try shopDisabled.write(to: served.keysFile, atomically: true, encoding: .utf8)
            try await Harness.eventually("shop's key is refused as disabled") {
                try Self.curl(served, imgData: "AAAA")["showapi_res_code"] == .int(-1011)
            }
            try "late nonsense\n".write(to: served.keysFile, atomically: true, encoding: .utf8)
            try await Harness.eventually("the broken file is reported") {
                served.log.contains("keys file not reloaded")
            }
            #expect(try Self.curl(served, appKey: late, imgData: "AAAA")["showapi_res_code"] == .int(0))
            #expect(!served.log.contains(late), "the log names no key")
        }
    }

    @Test("/openapi.yaml is a valid OpenAPI document and the live routes keep to it (schemathesis)")
    func openAPIConformance() async throws {
        try await Self.withServe(extra: ["IDOCR_SERVE_MAX_WAIT": "2"]) { served in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "openapi-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let document = directory.appendingPathComponent("openapi.yaml")
            try Harness.run(["curl", "-s", "\(served.url)/openapi.yaml"]).write(to: document)
            var status: Int32 = -1
            let validated = try Harness.run([Harness.venv + "openapi-spec-validator", document.path], status: &status)
            #expect(status == 0, "\(String(decoding: validated, as: UTF8.self))")
            // Every check schemathesis has, with the exceptions scripts/lib/schemathesis.toml gives
            // reasons for; it found a crash on a huge ?wait= and a worker crash on a huge enqueuedAt.
            let report = try Harness.run(
                [
                    Harness.venv + "schemathesis", "--no-color", "--config-file", "scripts/lib/schemathesis.toml",
                    "run", "\(served.url)/openapi.yaml", "--header", "Authorization: Bearer \(served.key)",
                    "--max-time", "25",
                ],
                status: &status
            )
            #expect(status == 0, "\(String(decoding: report, as: UTF8.self).suffix(6000))")
            let health = try Harness.run(["curl", "-s", "\(served.url)/healthz"])
            #expect(String(decoding: health, as: UTF8.self) == "ok\n", "serve still answers after schemathesis")
        }
    }

    @Test("keep-alive: one connection carries many requests; wrk's keep-alive load is answered, every code 0")
    func keepAliveLoad() async throws {
        try await Self.withServe { served in
            let image = FileManager.default.temporaryDirectory.appendingPathComponent("wrk-\(UUID().uuidString).jpg")
            try FakeImage.make(card: SyntheticCard.portrait()).write(to: image)
            defer { try? FileManager.default.removeItem(at: image) }
            // curl counts the connections it opened per transfer: the second request reuses the first's.
            let connects = try Harness.run([
                "curl", "-s", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{num_connects} ",
                "\(served.url)/healthz", "\(served.url)/openapi.yaml",
            ])
            #expect(String(decoding: connects, as: UTF8.self) == "1 0 ")
            // scripts/lib/serve-load.lua: a new image per request, so each is a new job and a paid call.
            let report = String(
                decoding: try Harness.run([
                    "IMG=\(image.path)", "KEY=\(served.key)", "wrk", "-t2", "-c8", "-d3s", "--timeout", "10s",
                    "-s", "scripts/lib/serve-load.lua", served.url,
                ]),
                as: UTF8.self
            )
            let codes = report.split(separator: "\n").first { $0.hasPrefix("codes ") }.map(String.init)
            let answered = codes.flatMap { Int($0.dropFirst("codes 0=".count)) } ?? 0
            #expect(codes?.hasPrefix("codes 0=") == true && answered > 0, "\(report)")
            #expect(!report.contains("Socket errors") && !report.contains("Non-2xx"), "\(report)")
            let stats = served.fake.stats
            #expect(stats.billed >= answered && stats.duplicateBilled == 0, "a call per answer, none paid twice")
        }
    }

    /// scripts/lib/slow-client.py against `url`: its one line of JSON.
    static func slowClient(_ mode: String, _ url: String) throws -> JSONValue {
        let out = try Harness.run(["python3", "scripts/lib/slow-client.py", mode, url])
        return try #require(JSONValue.parse(out), "not JSON: \(String(decoding: out, as: UTF8.self))")
    }

    /// The seconds slow-client.py reports (a JSON number either way it is written).
    static func seconds(_ report: JSONValue) -> Double {
        switch report["seconds"] {
        case .int(let value): Double(value)
        case .double(let value): value
        default: .infinity
        }
    }

    @Test("slow uploads cut off: a trickled head closed, a trickled body 408, an oversized Content-Length 413 at once")
    func slowClients() async throws {
        let limits = ["IDOCR_SERVE_IDLE_TIMEOUT": "2", "IDOCR_SERVE_UPLOAD_TIMEOUT": "2"]
        try await Self.withServe(extra: limits) { served in
            let url = "\(served.url)/1429-1?appKey=\(served.key)"
            // Without the limits each of these would hold a connection for the client's 60 s.
            let head = try Self.slowClient("head", url)
            #expect(head["status"] == .null, "closed without an answer: \(head)")
            #expect(Self.seconds(head) < 10, "\(head)")
            let body = try Self.slowClient("body", url)
            #expect(body["status"] == .int(408), "\(body)")
            #expect(Self.seconds(body) < 10, "\(body)")
            let length = try Self.slowClient("length", url)
            #expect(length["status"] == .int(413), "\(length)")
            let health = try Harness.run(["curl", "-s", "\(served.url)/healthz"])
            #expect(String(decoding: health, as: UTF8.self) == "ok\n", "serve still answers")
        }
    }

    @Test("HTTPS in the process: curl trusting the CA gets the envelope; without it, or over plain HTTP, nothing")
    func tlsInTheProcess() async throws {
        let certificates = try await TestCertificates(names: ["DNS:localhost"])
        defer { certificates.remove() }
        try await Self.withServe(
            extra: [
                "IDOCR_SERVE_TLS_CERT_FILE": certificates.serverCertificateFile,
                "IDOCR_SERVE_TLS_KEY_FILE": certificates.serverKeyFile,
            ]
        ) { served in
            let https = served.url.replacingOccurrences(of: "http://127.0.0.1", with: "https://localhost")
            let image = FakeImage.make(card: SyntheticCard.portrait()).base64EncodedString()
            let answer = try Harness.run([
                "curl", "-s", "--cacert", certificates.caFile, "\(https)/1429-1?appKey=\(served.key)",
                "-d", "imgData=\(image)", "-d", "type=1",
            ])
            #expect(JSONValue.parse(answer)?["showapi_res_code"] == .int(0))
            var status: Int32 = 0
            _ = try Harness.run(["curl", "-s", "\(https)/healthz"], status: &status)
            #expect(status == 60, "curl refuses a certificate it cannot verify (exit 60)")
            let plain = try Harness.run(["curl", "-s", "-m", "5", "\(served.url)/healthz"], status: &status)
            #expect(status != 0 && plain.isEmpty, "no plain HTTP on the TLS port")
        }
    }
}
