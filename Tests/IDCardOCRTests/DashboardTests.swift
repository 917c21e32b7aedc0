import Foundation
import IDCardContract
import IDCardDashboard
import IDCardTestSupport
import Testing

@testable import IDCardQueue

/// `idcard-ocr dashboard` as a process against a real Redis, driven with curl: sessions, the
/// CSRF token, roles, read-only mode, proxy headers, masks, the audit log. The browser's view of
/// the same is Tests/Browser (scripts/browser-tests).
// One at a time: each starts a redis-server and a dashboard, and ten at once on two cores
// stall the suites that time things.
@Suite("The dashboard, as a process", .serialized)
struct DashboardTests {
    /// A synthetic card (the standard example number; made-up name and address).
    static let card = [
        "name": "测试明", "sex": "男", "nationality": "汉", "birthday": "1949-12-31", "addr": "北京市朝阳区测试路1号",
        "idNo": "11010519491231002X",
    ]
    static let fullValues = ["测试明", "11010519491231002X", "北京市朝阳区测试路1号", "1949-12-31"]
    static let password = "test-password-1"

    struct Dashboard {
        let url: String
        let queue: JobQueue
        let process: WorkerProcess
        let directory: URL

        /// `curl` with this user's cookie jar: the status, headers and body of the answer.
        func curl(_ user: String, _ arguments: [String]) throws -> (status: Int, headers: String, body: String) {
            let jar = directory.appendingPathComponent("\(user).cookies").path
            let out = try Harness.run(["curl", "-s", "-i", "-b", jar, "-c", jar] + arguments)
            let text = String(decoding: out, as: UTF8.self)
            let parts = text.components(separatedBy: "\r\n\r\n")
            let head = parts.first ?? ""
            let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
            return (status, head, parts.dropFirst().joined(separator: "\r\n\r\n"))
        }

        func get(_ user: String, _ path: String) throws -> (status: Int, headers: String, body: String) {
            try curl(user, [url + path])
        }

        func post(
            _ user: String,
            _ path: String,
            _ fields: [String],
            origin: String? = nil
        ) throws -> (
            status: Int, headers: String, body: String
        ) {
            try curl(
                user,
                fields.flatMap { ["--data-urlencode", $0] } + (origin.map { ["-H", "Origin: \($0)"] } ?? []) + [
                    url + path
                ]
            )
        }

        func login(_ user: String) throws {
            let answer = try post(user, "/login", ["user=\(user)", "password=\(DashboardTests.password)"])
            #expect(answer.status == 303, "\(user) signs in")
        }

        /// The CSRF token of `user`'s session, from a page's meta tag.
        func csrf(_ user: String) throws -> String {
            let page = try get(user, "/").body
            guard let range = page.range(of: "name=\"csrf-token\" content=\"") else { return "" }
            return String(page[range.upperBound...].prefix(64))
        }
    }

    static func withDashboard(
        environment extra: [String: String] = [:],
        name: String = #function,
        _ body: (Dashboard) async throws -> Void
    ) async throws {
        try await Harness.withRedis { redis in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dash-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            var lines: [String] = []
            for role in Role.allCases {
                let hash = try PasswordHash.make(password: password, costLog2: 10)
                lines.append(UsersFile.line(name: role.rawValue, roles: [role], password: hash))
            }
            let usersFile = directory.appendingPathComponent("users.txt")
            try (lines.joined(separator: "\n") + "\n").write(to: usersFile, atomically: true, encoding: .utf8)
            let queueName = Harness.uniqueQueue(name)
            let port = try FreePort.pick()
            let environment = [
                "IDOCR_REDIS_URL": redis.url, "IDOCR_QUEUE": queueName, "IDOCR_DASHBOARD_PORT": "\(port)",
                "IDOCR_DASHBOARD_USERS_FILE": usersFile.path, "IDOCR_DASHBOARD_SECURE_COOKIE": "0",
            ].merging(extra) { $1 }
            let process = try WorkerProcess(environment: environment, arguments: ["dashboard"])
            try await Harness.eventually("dashboard listening") { process.log.contains("dashboard listening") }
            let queue = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: queueName))
            let dashboard = Dashboard(
                url: "http://127.0.0.1:\(port)",
                queue: queue,
                process: process,
                directory: directory
            )
            let outcome = await Result { try await body(dashboard) }
            process.signal(SIGTERM)
            let status = await process.waitForExit(timeout: 10)
            await queue.shutdown()
            try outcome.get()
            #expect(status == 0, "SIGTERM stops the dashboard cleanly")
        }
    }

    /// A dead letter as a worker writes it, of a job carrying the synthetic card's image.
    static func deadLetter(
        id: String,
        code: ErrorCode = .notRecognized,
        message: String = "the API found no ID card"
    )
        -> Data
    {
        let job = JSONValue.object([
            "id": .string(id), "imgData": .string(FakeImage.make(card: card).base64EncodedString()), "type": "1",
        ])
        return JSONValue.object([
            "job": job,
            "error": .object(["code": .string(code.rawValue), "message": .string(message), "retryable": false]),
            "attempts": 1, "failedAt": .string(Timestamp.iso8601()), "worker": "test-worker",
        ]).encoded()
    }

    static func storeSuccess(_ queue: JobQueue, id: String) async throws {
        let result = JobResult(
            id: id,
            status: .succeeded,
            provider: "showapi",
            attempts: 1,
            durationMs: 12,
            body: .object(card.mapValues { .string($0) }.merging(["type": "1"]) { $1 })
        )
        _ = try await queue.redis.send("SET", .string(queue.keys.result(id)), .data(result.jsonValue.encoded()))
    }

    @Test("no page, number or API answer without a session; a wrong password is refused; sign-out ends the session")
    func sessions() async throws {
        try await Self.withDashboard { dashboard in
            _ = try await dashboard.queue.redis.send(
                "LPUSH",
                .string(dashboard.queue.keys.dead),
                .data(Self.deadLetter(id: "d-1"))
            )
            let name = dashboard.queue.keys.queue
            for path in [
                "/", "/queues/\(name)", "/queues/\(name)/dead", "/queues/\(name)/jobs/d-1",
                "/queues/\(name)/dead/purge",
            ] {
                let answer = try dashboard.get("nobody", path)
                #expect(answer.status == 303 && answer.headers.contains("Location: /login"), "\(path)")
                #expect(!answer.body.contains("d-1") && !answer.body.contains(name), "\(path) shows nothing")
            }
            let api = try dashboard.get("nobody", "/api/queues/\(name)/stats")
            #expect(api.status == 401 && !api.body.contains("pending"))
            let wrong = try dashboard.post("viewer", "/login", ["user=viewer", "password=not-it"])
            #expect(wrong.status == 401 && wrong.body.contains("Wrong user or password"))
            let unknown = try dashboard.post("viewer", "/login", ["user=nobody", "password=not-it"])
            #expect(unknown.status == 401 && unknown.body.contains("Wrong user or password"), "the same answer")
            try dashboard.login("viewer")
            #expect(try dashboard.get("viewer", "/queues/\(name)/dead").body.contains("d-1"))
            let token = try dashboard.csrf("viewer")
            #expect(try dashboard.post("viewer", "/logout", ["csrf=\(token)"]).status == 303)
            #expect(try dashboard.get("viewer", "/").status == 303, "the session is over")
            let log = dashboard.process.log
            #expect(log.contains("\"event\":\"login_failed\"") && log.contains("\"event\":\"logout\""))
            #expect(!log.contains("not-it") && !log.contains(Self.password), "no password in the log")
        }
    }

    @Test("an action needs the session's CSRF token, this host's Origin and a role that may act")
    func actionsRefused() async throws {
        try await Self.withDashboard { dashboard in
            let queue = dashboard.queue
            let name = queue.keys.queue
            _ = try await queue.redis.send("LPUSH", .string(queue.keys.dead), .data(Self.deadLetter(id: "d-1")))
            try dashboard.login("operator")
            try dashboard.login("viewer")
            let path = "/queues/\(name)/dead/requeue"
            let token = try dashboard.csrf("operator")
            #expect(try dashboard.post("operator", path, ["id=d-1"]).status == 403, "no token")
            #expect(
                try dashboard.post("operator", path, ["id=d-1", "csrf=\(String(repeating: "0", count: 64))"]).status
                    == 403
            )
            #expect(
                try dashboard.post("operator", path, ["id=d-1", "csrf=\(try dashboard.csrf("viewer"))"]).status == 403,
                "another session's token"
            )
            #expect(
                try dashboard.post("operator", path, ["id=d-1", "csrf=\(token)"], origin: "https://evil.example").status
                    == 403
            )
            let viewer = try dashboard.post("viewer", path, ["id=d-1", "csrf=\(try dashboard.csrf("viewer"))"])
            #expect(viewer.status == 403 && viewer.body.contains("may not requeue"))
            #expect(try await queue.stats().dead == 1, "nothing moved")
            #expect(try await queue.stats().pending == 0)
            // What Chromium sends from a page with `Referrer-Policy: no-referrer`: the token decides.
            let done = try dashboard.curl(
                "operator",
                [
                    "-H", "Origin: null", "-H", "Sec-Fetch-Site: same-origin", "--data-urlencode", "id=d-1",
                    "--data-urlencode", "csrf=\(token)", dashboard.url + path,
                ]
            )
            #expect(done.status == 303)
            let after = try await queue.stats()
            #expect(after.dead == 0 && after.pending == 1)
            #expect(try dashboard.get("operator", "/queues/\(name)/dead").body.contains("requeued 1"))
            let log = dashboard.process.log
            #expect(log.contains("\"reason\":\"csrf\""))
            #expect(log.contains("\"event\":\"requeue\"") && log.contains("\"requeued\":\"1\""))
        }
    }

    @Test("read-only: no action for anyone, the admin too; looking still works")
    func readOnly() async throws {
        try await Self.withDashboard(environment: ["IDOCR_DASHBOARD_READ_ONLY": "1"]) { dashboard in
            let queue = dashboard.queue
            let name = queue.keys.queue
            _ = try await queue.redis.send("LPUSH", .string(queue.keys.dead), .data(Self.deadLetter(id: "d-1")))
            try dashboard.login("admin")
            let token = try dashboard.csrf("admin")
            let page = try dashboard.get("admin", "/queues/\(name)/dead").body
            #expect(page.contains("d-1") && !page.contains("requeue-selected") && !page.contains("purge-link"))
            for path in ["/dead/requeue", "/dead/purge", "/pause"] {
                let answer = try dashboard.post(
                    "admin",
                    "/queues/\(name)\(path)",
                    ["id=d-1", "confirm=\(name)", "csrf=\(token)"]
                )
                #expect(answer.status == 403 && answer.body.contains("read-only"), "\(path)")
            }
            #expect(try await queue.stats().dead == 1)
            #expect(try await queue.pauseState() == nil)
        }
    }

    @Test(
        "personal data masked on every page for roles without reveal; a reveal: one field, audited without the value"
    )
    func masks() async throws {
        try await Self.withDashboard { dashboard in
            let queue = dashboard.queue
            let name = queue.keys.queue
            try await Self.storeSuccess(queue, id: "ok-1")
            _ = try await queue.redis.send("LPUSH", .string(queue.keys.dead), .data(Self.deadLetter(id: "d-1")))
            let pages = [
                "/", "/queues/\(name)", "/queues/\(name)/dead", "/queues/\(name)/jobs/ok-1", "/queues/\(name)/jobs/d-1",
            ]
            for user in ["viewer", "operator", "revealer"] {
                try dashboard.login(user)
                for path in pages {
                    let body = try dashboard.get(user, path).body
                    for value in Self.fullValues { #expect(!body.contains(value), "\(user) \(path) shows \(value)") }
                }
            }
            let job = try dashboard.get("viewer", "/queues/\(name)/jobs/ok-1").body
            #expect(job.contains("1101**********002X") && job.contains("测*明") && job.contains("北京市朝阳区…"))
            #expect(!job.contains("class=\"reveal\""), "no reveal form for a viewer")
            let viewerReveal = try dashboard.post(
                "viewer",
                "/queues/\(name)/jobs/ok-1/reveal",
                ["field=idNo", "csrf=\(try dashboard.csrf("viewer"))"]
            )
            #expect(viewerReveal.status == 403 && !viewerReveal.body.contains("11010519491231002X"))
            let revealed = try dashboard.post(
                "revealer",
                "/queues/\(name)/jobs/ok-1/reveal",
                ["field=idNo", "csrf=\(try dashboard.csrf("revealer"))"]
            ).body
            #expect(revealed.contains("class=\"revealed\">11010519491231002X"))
            #expect(!revealed.contains("测试明") && !revealed.contains("北京市朝阳区测试路1号"), "one field only")
            #expect(
                !(try dashboard.get("revealer", "/queues/\(name)/jobs/ok-1").body.contains("11010519491231002X")),
                "this page only"
            )
            let log = dashboard.process.log
            #expect(
                log.contains("\"event\":\"reveal\"") && log.contains("\"field\":\"idNo\"")
                    && log.contains("\"job\":\"ok-1\"")
            )
            for value in Self.fullValues { #expect(!log.contains(value), "the log holds \(value)") }
        }
    }

    @Test("an id carrying an ID number: masked in text, links and checkboxes; the page's link still opens the job")
    func numberInAnID() async throws {
        try await Self.withDashboard { dashboard in
            let queue = dashboard.queue
            let name = queue.keys.queue
            let id = "order-11010519491231002X"
            try await Self.storeSuccess(queue, id: id)
            _ = try await queue.redis.send("LPUSH", .string(queue.keys.dead), .data(Self.deadLetter(id: id)))
            try dashboard.login("operator")
            let list = try dashboard.get("operator", "/queues/\(name)/dead").body
            #expect(!list.contains("11010519491231002X") && list.contains("order-1101**********002X"))
            let href = try #require(list.range(of: "class=\"job-link\" href=\"").map { list[$0.upperBound...] })
            let path = String(href.prefix { $0 != "\"" })
            #expect(path.contains("/jobs/~"), "a reference, not the id: \(path)")
            let job = try dashboard.get("operator", path).body
            #expect(job.contains("status-succeeded") && !job.contains("11010519491231002X"))
            // The checkbox's reference requeues the letter.
            let value = try #require(list.range(of: "name=\"id\" value=\"").map { list[$0.upperBound...] })
            let reference = String(value.prefix { $0 != "\"" })
            let token = try dashboard.csrf("operator")
            #expect(
                try dashboard.post("operator", "/queues/\(name)/dead/requeue", ["id=\(reference)", "csrf=\(token)"])
                    .status == 303
            )
            #expect(try await queue.stats().dead == 0)
            #expect(try dashboard.get("operator", "/queues/\(name)/jobs/~bm90LWEtcmVmZXJlbmNl").status == 404)
        }
    }

    @Test("large letters are listed from a summary, the image left in Redis; a filtered list pages to its end")
    func largeLettersAndPaging() async throws {
        try await Self.withDashboard { dashboard in
            let queue = dashboard.queue
            let name = queue.keys.queue
            // 120 letters of one code, one of them 200 KiB (its image), and 30 of another.
            for index in 0..<150 {
                // As a worker writes it: the job first, then the error and the rest.
                let letter =
                    index == 7
                    ? Data(
                        (#"{"job":{"id":"big-7","imgData":""# + String(repeating: "A", count: 200 * 1024)
                            + #""},"error":{"code":"ocr_unavailable","message":"gave up","retryable":false},"#
                            + #""attempts":5,"failedAt":"\#(Timestamp.iso8601())","worker":"w"}"#).utf8
                    )
                    : Self.deadLetter(id: "l-\(index)", code: index % 5 == 4 ? .notRecognized : .ocrUnavailable)
                _ = try await queue.redis.send("LPUSH", .string(queue.keys.dead), .data(letter))
            }
            try dashboard.login("viewer")
            var seen = 0
            var sawBig = false
            var path = "/queues/\(name)/dead?code=ocr_unavailable"
            for _ in 0..<5 {
                let page = try dashboard.get("viewer", path).body
                seen += page.components(separatedBy: "<td class=\"code\">ocr_unavailable</td>").count - 1
                #expect(!page.contains("not_recognized</td>"))
                if page.contains("big-7") {
                    sawBig = true
                    #expect(page.contains("200 KiB (not read here)") && !page.contains("AAAAAAAA"))
                }
                guard let next = page.range(of: "id=\"next-page\" href=\"").map({ page[$0.upperBound...] }) else {
                    break
                }
                path = String(next.prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
            }
            #expect(seen == 120, "every letter of the code, page after page")
            #expect(sawBig)
            #expect(try dashboard.get("viewer", "/queues/\(name)/dead?from=9223372036854775807").status == 200)
        }
    }

    @Test("a hostile dead letter (markup, a number in its message) is shown escaped and masked")
    func hostileLetter() async throws {
        try await Self.withDashboard { dashboard in
            let queue = dashboard.queue
            _ = try await queue.redis.send(
                "LPUSH",
                .string(queue.keys.dead),
                .data(Self.deadLetter(id: "d-1", message: "<script>alert(1)</script> for 11010519491231002X"))
            )
            try dashboard.login("operator")
            let page = try dashboard.get("operator", "/queues/\(queue.keys.queue)/dead").body
            #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; for 1101**********002X"))
            #expect(!page.contains("<script>alert") && !page.contains("11010519491231002X"))
        }
    }

    @Test("pause and resume from the dashboard: the key the workers read, who paused and why")
    func pauseAndResume() async throws {
        try await Self.withDashboard { dashboard in
            let queue = dashboard.queue
            let name = queue.keys.queue
            try dashboard.login("operator")
            let token = try dashboard.csrf("operator")
            #expect(
                try dashboard.post("operator", "/queues/\(name)/pause", ["reason=deploy", "csrf=\(token)"]).status
                    == 303
            )
            let pause = try #require(try await queue.pauseState())
            #expect(pause.by == "operator" && pause.reason == "deploy")
            let page = try dashboard.get("operator", "/queues/\(name)").body
            #expect(
                page.contains("data-stat=\"queue-state\" class=\"state\">paused") && page.contains("form id=\"resume\"")
            )
            #expect(try dashboard.post("operator", "/queues/\(name)/resume", ["csrf=\(token)"]).status == 303)
            #expect(try await queue.pauseState() == nil)
            #expect(
                dashboard.process.log.contains("\"event\":\"pause\"")
                    && dashboard.process.log.contains("\"event\":\"resume\"")
            )
        }
    }

    @Test("proxy authentication: only from a trusted address, the header's user, roles from its groups")
    func proxy() async throws {
        let roles = ["IDOCR_DASHBOARD_AUTH": "proxy", "IDOCR_DASHBOARD_PROXY_ROLES": "ops=operator,kyc=revealer"]
        try await Self.withDashboard(environment: roles) { dashboard in
            let user = ["-H", "X-Forwarded-User: alice@example.com", "-H", "X-Forwarded-Groups: staff, ops"]
            let page = try dashboard.curl("alice", user + [dashboard.url + "/"])
            #expect(page.status == 200 && page.body.contains("alice@example.com · operator"))
            #expect(try dashboard.curl("nobody", [dashboard.url + "/"]).status == 403, "no user header")
            let ungrouped = try dashboard.curl(
                "bob",
                ["-H", "X-Forwarded-User: bob", "-H", "X-Forwarded-Groups: staff", dashboard.url + "/"]
            )
            #expect(ungrouped.status == 403 && ungrouped.body.contains("no group"))
            // The cookie of alice's session does not make mallory alice.
            let other = try dashboard.curl(
                "alice",
                ["-H", "X-Forwarded-User: mallory", "-H", "X-Forwarded-Groups: kyc", dashboard.url + "/"]
            )
            #expect(other.body.contains("mallory · revealer") && !other.body.contains("alice@"))
        }
        try await Self.withDashboard(
            environment: roles.merging(["IDOCR_DASHBOARD_TRUSTED_PROXIES": "10.0.0.0/8"]) { $1 }
        ) { dashboard in
            let direct = try dashboard.curl(
                "alice",
                ["-H", "X-Forwarded-User: alice", "-H", "X-Forwarded-Groups: ops", dashboard.url + "/"]
            )
            #expect(direct.status == 403 && direct.body.contains("through its authenticating proxy only"))
        }
    }

    @Test("every answer carries the security headers; pages hold no inline script")
    func headers() async throws {
        try await Self.withDashboard { dashboard in
            try dashboard.login("operator")
            let name = dashboard.queue.keys.queue
            for path in [
                "/login", "/", "/queues/\(name)", "/queues/\(name)/dead", "/no-such-page", "/static/dashboard.js",
            ] {
                let answer = try dashboard.get("operator", path)
                #expect(
                    answer.headers.contains("Content-Security-Policy: default-src 'none'; script-src 'self'"),
                    "\(path)"
                )
                #expect(!answer.headers.contains("unsafe-inline"), "\(path)")
                #expect(answer.headers.contains("X-Frame-Options: DENY"), "\(path)")
                #expect(answer.headers.contains("X-Content-Type-Options: nosniff"), "\(path)")
                if path != "/static/dashboard.js" {
                    #expect(!answer.body.contains("<script>") && !answer.body.contains(" style="), "\(path)")
                }
            }
        }
    }
}

/// The queue's pause as the fleet honours it (``JobQueue/pause(by:reason:)``).
@Suite("A paused queue")
struct QueuePauseTests {
    @Test("no job is taken while paused, not even the next one a finishing job would take; resumed, all run")
    func pausedQueue() async throws {
        var fake = ShowAPIFake.Configuration()
        fake.latency = .milliseconds(150)
        try await Harness.scenario(fake: fake, configure: { $0.concurrency = 2 }) { scenario in
            let producer = scenario.producer
            try await Harness.withWorker(scenario.configuration) { _ in
                try await producer.enqueue((0..<40).map { Harness.job(id: "p-\($0)") })
                try await Harness.eventually("some jobs done") { try await producer.stats().succeeded >= 3 }
                try await producer.pause(by: "test", reason: "checking")
                let atPause = try await producer.stats()
                try await Task.sleep(for: .seconds(2))
                let later = try await producer.stats()
                // What was held when the pause began may finish; nothing more starts.
                #expect(later.succeeded <= atPause.succeeded + atPause.processing, "\(atPause) → \(later)")
                #expect(later.processing == 0 && later.pending == atPause.pending)
                #expect(later.pause?.by == "test")
                try await producer.resume()
                try await Harness.eventually("all done after the resume") { try await producer.stats().succeeded == 40 }
            }
        }
    }
}
