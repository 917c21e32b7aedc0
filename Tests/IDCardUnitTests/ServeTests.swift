import Foundation
import IDCardContract
import IDCardQueue
import IDCardRecognition
import IDCardServe
import Logging
import ServiceLifecycle
import Testing

@Suite struct ServeTests {
    @Test func formFieldsDecodeEscapesAndPlus() {
        let form = FormFields(parsing: Array("imgData=ab%2Bc+d&type=1&needQuality=&x=%zz&type=2".utf8))
        #expect(form.text("imgData") == "ab+c d")
        #expect(form.text("type") == "2")
        #expect(form.text("needQuality") == "")
        #expect(form.text("x") == "%zz")
        #expect(form["missing"] == nil)
    }

    /// curl -d imgData=<base64> sends `+` unescaped; the form reads it as a space.
    @Test func unescapedBase64KeepsItsPluses() throws {
        let base64 = Data([0xFF, 0xD8, 0xFF, 0xFB, 0xEF, 0xBE]).base64EncodedString()
        #expect(base64.contains("+") || base64.contains("/"))
        let form = FormFields(parsing: Array("imgData=\(base64)&type=1".utf8))
        let request = try ShowAPIRequest(
            form: form,
            client: "shop",
            replyTo: "idocr:{idcard}:reply:serve.x",
            replyPrefix: "idocr:{idcard}:reply:"
        )
        #expect(request.job.image == .base64(Data(base64.utf8)))
        #expect(request.job.side == .portrait)
    }

    @Test func sameQuestionSameJobOtherClientOtherJob() {
        let image = Job.Image.base64(Data("abcd".utf8))
        let first = ShowAPIRequest.jobID(client: "a", image: image, side: .portrait, needQuality: false)
        #expect(first == ShowAPIRequest.jobID(client: "a", image: image, side: .portrait, needQuality: false))
        #expect(first != ShowAPIRequest.jobID(client: "b", image: image, side: .portrait, needQuality: false))
        #expect(first != ShowAPIRequest.jobID(client: "a", image: image, side: .emblem, needQuality: false))
        #expect(first != ShowAPIRequest.jobID(client: "a", image: image, side: .portrait, needQuality: true))
        #expect(Job.isValidID(first))
    }

    @Test func formWithBothImagesIsInvalid() {
        let form = FormFields(parsing: Array("imgData=AAAA&imgUrl=https://example.com/a.jpg".utf8))
        #expect(throws: JobError.self) {
            try ShowAPIRequest(form: form, client: "a", replyTo: "p:{q}:reply:s", replyPrefix: "p:{q}:reply:")
        }
    }

    @Test func keyringStoresDigestsAndParsesLimits() throws {
        let key = APIKeyring.newKey()
        #expect(key.count == 32)
        let line = APIKeyring.line(name: "shop", key: key, settings: ["rate=20", "burst=40", "quota=100/day"])
        let text = """
            # comment
            \(line)
            old sha256:\(APIKeyring.digest(of: "old-key")) disabled
            """
        let keyring = try APIKeyring(parsing: text, source: "keys")
        let shop = try #require(keyring.client(presenting: key))
        #expect(shop.name == "shop")
        #expect(shop.limits == .init(requestsPerSecond: 20, burst: 40, quota: 100, period: .day))
        #expect(keyring.client(presenting: "old-key")?.disabled == true)
        #expect(keyring.client(presenting: "other") == nil)
        #expect(!text.contains(key))
    }

    @Test func keyringRefusesBadLinesWithoutShowingThem() {
        for line in [
            "shop", "sh op sha256:00", "shop sha256:\(String(repeating: "0", count: 64)) rate=x",
            "shop sha256:\(String(repeating: "0", count: 64)) quota=5/week",
        ] {
            #expect(throws: (any Error).self) { try APIKeyring(parsing: line, source: "keys") }
        }
    }

    @Test func successKeepsTheAPIFieldsWithoutTheWorkersType() throws {
        let result = JobResult(
            id: "showapi.a.1",
            status: .succeeded,
            provider: "rapidocr",
            attempts: 1,
            finishedAt: "2026-12-03T00:00:00.000Z",
            durationMs: 5,
            body: .object([
                "ret_code": .int(0), "flag": .bool(true), "msg": .string("识别成功!"), "type": .string("1"),
                "name": .string("张三"), "idNo": .string("11010519491231002X"), "birthday": .string("1949-12-31"),
            ])
        )
        let answer = ShowAPIAnswer.answer(for: result)
        #expect(answer.gateway == .success)
        #expect(answer.body["type"] == nil)
        #expect(answer.body["birthday"] == .string("1949-12-31"))
        #expect(answer.body["headImgBase64"] == .string(ShowAPIAnswer.headImagePlaceholder))
        let envelope = try #require(JSONValue.parse(answer.encoded()))
        #expect(envelope["showapi_res_code"] == .int(0))
        #expect(envelope["showapi_res_error"] == .string(""))
        #expect(envelope["showapi_res_id"]?.stringValue?.count == 32)
    }

    @Test func failuresAreBusinessOrGatewayByWhoseFaultTheyAre() {
        func failed(_ code: ErrorCode) -> JobResult {
            JobResult(
                id: "x",
                status: .failed,
                attempts: 1,
                finishedAt: "2026-12-03T00:00:00.000Z",
                durationMs: 1,
                error: JobError(code, "m")
            )
        }
        let notRecognized = ShowAPIAnswer.answer(for: failed(.notRecognized))
        #expect(notRecognized.gateway == .success)
        #expect(notRecognized.body["flag"] == .bool(false))
        #expect(notRecognized.body["ret_code"] == .int(-1))
        #expect(ShowAPIAnswer.answer(for: failed(.attemptsExhausted)).gateway == .systemError)
        #expect(ShowAPIAnswer.answer(for: failed(.ocrUnavailable)).gateway == .systemError)
        #expect(ShowAPIAnswer.answer(for: failed(.imageUnreadable)).body["flag"] == .bool(false))
    }

    @Test func waitParameter() throws {
        #expect(try WaitParameter.parse("10s").get() == .seconds(10))
        #expect(try WaitParameter.parse("10").get() == .seconds(10))
        #expect(try WaitParameter.parse("500ms").get() == .milliseconds(500))
        #expect(try WaitParameter.parse(nil).get() == .zero)
        #expect((try? WaitParameter.parse("soon").get()) == nil)
        #expect((try? WaitParameter.parse("-1").get()) == nil)
        // schemathesis sent this; converting it to milliseconds trapped and took the process down.
        #expect(try WaitParameter.parse("44278154756890936.33704182ms").get() >= .seconds(30))
        #expect(try WaitParameter.parse("1e300").get() >= .seconds(30))
    }

    @Test func tenantIDsKeepClientsApart() throws {
        let mine = try #require(TenantJobID(client: "a", clientID: "order-1"))
        #expect(mine.queued == "v1.a.order-1")
        #expect(TenantJobID(client: "a", clientID: String(repeating: "x", count: 126)) == nil)
        #expect(TenantJobID(client: "a", clientID: "bad id") == nil)
    }

    /// schemathesis found `{"imgUrl": "0000000"}` queued (its job then failed at the worker): a
    /// batch is refused whole, naming each job no worker could read.
    @Test func aBatchIsRefusedWholeForAJobNoWorkerCouldRead() throws {
        let good = #"{"id":"a","imgUrl":"https://example.com/card.jpg"}"#
        for bad in [
            #"{"imgUrl":"0000000"}"#, #"{"imgData":"AAAA"}"#, #"{"imgData":""}"#,
            #"{"id":"x","imgUrl":"https://h/i","replyTo":"r"}"#,
        ] {
            let body = Data("[\(good),\(bad)]".utf8)
            #expect(throws: JobSubmission.Refusal.self) {
                try JobSubmission(
                    body: body,
                    client: "c",
                    replyPrefix: "p:",
                    maxBatch: 10,
                    intakeLimits: IntakeLimits()
                )
            }
            do {
                _ = try JobSubmission(
                    body: body,
                    client: "c",
                    replyPrefix: "p:",
                    maxBatch: 10,
                    intakeLimits: IntakeLimits()
                )
            } catch {
                guard case .invalid(let problems) = error else { throw error }
                #expect(problems.map(\.index) == [1])
            }
        }
        let submission = try JobSubmission(
            body: Data("[\(good)]".utf8),
            client: "c",
            replyPrefix: "p:",
            maxBatch: 10,
            intakeLimits: IntakeLimits()
        )
        #expect(submission.ids == ["a"] && submission.jobs.map(\.id) == ["v1.c.a"])
    }

    @Test("the keys file's reload loop ends at graceful shutdown, not at its next look an hour later")
    func keysFileStopsAtShutdown() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString).txt")
        let line = APIKeyring.line(name: "shop", key: APIKeyring.newKey(), settings: [])
        try (line + "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let keys = try KeysFile(
            path: file.path,
            setting: "IDOCR_SERVE_KEYS_FILE",
            interval: .seconds(3600),
            logger: logger
        )
        let group = ServiceGroup(services: [keys], logger: logger)
        let stoppedFirst = try await withThrowingTaskGroup(of: Bool.self) { tasks in
            tasks.addTask {
                try await group.run()
                return true
            }
            tasks.addTask {
                try await Task.sleep(for: .seconds(30))
                return false
            }
            try await Task.sleep(for: .milliseconds(100))
            await group.triggerGracefulShutdown()
            let first = try await tasks.next() ?? false
            tasks.cancelAll()
            return first
        }
        #expect(stoppedFirst, "serve's SIGTERM waited for the keys file's next look")
    }
}
