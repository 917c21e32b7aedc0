import IDCardContract
import Testing

@testable import IDCardRecognition
@testable import IDCardWorker

/// What a job does after a call that produced no reading, decided without a server.
@Suite("The retry-or-pause decision")
struct FailureDecisionTests {
    static let rules = FailureDecision.Rules(
        maxAttempts: 3,
        backoff: RetryPolicy(base: .seconds(1), cap: .seconds(8)),
        rateCoolDown: .seconds(5)
    )

    @Test("the job's own fault fails it at once, whatever attempt it is")
    func rejected() {
        let error = JobError(.notRecognized, "no card")
        #expect(FailureDecision.after(.rejected(error), attempt: 1, rules: Self.rules) == .failForGood(error))
    }

    @Test("an unavailable or unanswered recognizer is retried with backoff until the last attempt, then exhausted")
    func transient() {
        for failure in [RecognitionFailure.unavailable("HTTP 502"), .unanswered("timed out")] {
            #expect(
                FailureDecision.after(failure, attempt: 1, rules: Self.rules, jitter: 1) == .retry(after: .seconds(1))
            )
            #expect(
                FailureDecision.after(failure, attempt: 2, rules: Self.rules, jitter: 1) == .retry(after: .seconds(2))
            )
            #expect(FailureDecision.after(failure, attempt: 2, rules: Self.rules, jitter: 0) == .retry(after: .zero))
            guard case .failForGood(let error) = FailureDecision.after(failure, attempt: 3, rules: Self.rules) else {
                Issue.record("the last attempt was not final")
                continue
            }
            #expect(error.code == .attemptsExhausted && error.message.contains("3 attempts"))
        }
    }

    @Test("a busy recognizer is asked again no sooner than its Retry-After; it is an attempt like any")
    func busy() {
        let busy = RecognitionFailure.busy("full", retryAfter: .seconds(3))
        #expect(FailureDecision.after(busy, attempt: 1, rules: Self.rules, jitter: 1) == .retry(after: .seconds(3)))
        #expect(FailureDecision.after(busy, attempt: 2, rules: Self.rules, jitter: 0) == .retry(after: .seconds(3)))
        let long = RecognitionFailure.busy("full", retryAfter: .milliseconds(100))
        #expect(FailureDecision.after(long, attempt: 2, rules: Self.rules, jitter: 1) == .retry(after: .seconds(2)))
        guard case .failForGood(let error) = FailureDecision.after(busy, attempt: 3, rules: Self.rules) else {
            Issue.record("the last attempt was not final")
            return
        }
        #expect(error.code == .attemptsExhausted)
        #expect(busy.code == .ocrUnavailable)
    }

    @Test("Retry-After: whole or decimal seconds kept within 0.1…60 s; a date or nonsense is 1 s")
    func retryAfterHeader() {
        #expect(RapidOCRRecognizer.retryAfter("2") == .seconds(2))
        #expect(RapidOCRRecognizer.retryAfter(" 0.5 ") == .milliseconds(500))
        #expect(RapidOCRRecognizer.retryAfter("0") == .milliseconds(100))
        #expect(RapidOCRRecognizer.retryAfter("86400") == .seconds(60))
        #expect(RapidOCRRecognizer.retryAfter("Wed, 21 Oct 2026 07:28:00 GMT") == .seconds(1))
        #expect(RapidOCRRecognizer.retryAfter("nan") == .seconds(1))
        #expect(RapidOCRRecognizer.retryAfter(nil) == .seconds(1))
    }

    @Test("a rate refusal waits at least the cool-down, and its backoff when that is longer")
    func rateLimited() {
        let failure = RecognitionFailure.rateLimited("-1009")
        #expect(FailureDecision.after(failure, attempt: 1, rules: Self.rules, jitter: 1) == .retry(after: .seconds(5)))
        var long = Self.rules
        long.maxAttempts = 10
        #expect(FailureDecision.after(failure, attempt: 5, rules: long, jitter: 1) == .retry(after: .seconds(8)))
        #expect(FailureDecision.after(failure, attempt: 3, rules: Self.rules).isFinal)
    }

    @Test("the account refused pauses the worker and fails no job, even on the last attempt")
    func account() {
        #expect(
            FailureDecision.after(.accountProblem("quota used up"), attempt: 3, rules: Self.rules)
                == .pause(reason: "quota used up")
        )
    }

    @Test("a refusal sets the job aside; refused again while other jobs pass, it is the job's: rejected_by_api")
    func refused() {
        let failure = RecognitionFailure.refused("HTTP 403")
        #expect(FailureDecision.after(failure, attempt: 1, rules: Self.rules) == .setAside(reason: "HTTP 403"))
        guard
            case .failForGood(let error) = FailureDecision.after(
                failure,
                attempt: 1,
                rules: Self.rules,
                refusedAgainWhileOthersPass: true
            )
        else {
            Issue.record("refused again was not final")
            return
        }
        #expect(error.code == .rejectedByAPI)
    }
}

extension FailureDecision {
    var isFinal: Bool {
        if case .failForGood = self { return true }
        return false
    }
}

/// The warnings a RapidOCR reading carries, decided without a server.
@Suite("Recognition warnings")
struct RecognitionWarningsTests {
    @Test("warnings: the server's known ones and a grey file's copy, in the contract's order; nothing measured, nil")
    func warningsFromServerAndFile() {
        #expect(
            RapidOCRRecognizer.warnings(measured: ["copy", "glare", "blurred"], fileIsGrey: false)
                == ["blurred", "glare", "copy"]
        )
        #expect(RapidOCRRecognizer.warnings(measured: ["moiré", "<script>"], fileIsGrey: false) == [])
        #expect(RapidOCRRecognizer.warnings(measured: nil, fileIsGrey: true) == ["copy"])
        #expect(RapidOCRRecognizer.warnings(measured: ["copy"], fileIsGrey: true) == ["copy"])
        #expect(RapidOCRRecognizer.warnings(measured: nil, fileIsGrey: false) == nil)
        #expect(RapidOCRRecognizer.warnings(measured: [], fileIsGrey: false) == [])
    }

    @Test("the other side: asked for the portrait, the lines are an emblem side's; asked for nothing, or rightly, nil")
    func reversedSide() {
        func line(_ text: String, row: Int) -> OCRLine {
            let y = Double(row * 50)
            return OCRLine(
                text: text,
                box: [SIMD2(0, y), SIMD2(400, y), SIMD2(400, y + 40), SIMD2(0, y + 40)],
                score: 1
            )
        }
        let emblem = [
            line("中华人民共和国", row: 0), line("居民身份证", row: 1), line("签发机关杭州市公安局西湖区分局", row: 3),
            line("有效期限2018.05.02-2028.05.02", row: 4),
        ]
        #expect(RapidOCRRecognizer.otherSide(emblem, asked: .portrait) == .emblem)
        #expect(RapidOCRRecognizer.otherSide(emblem, asked: .emblem) == nil)
        #expect(RapidOCRRecognizer.otherSide(emblem, asked: .detect) == nil)
        #expect(RapidOCRRecognizer.otherSide([line("姓名王小明", row: 0)], asked: .emblem) == .portrait)
        #expect(RapidOCRRecognizer.otherSide([line("hello", row: 0)], asked: .emblem) == nil)
    }
}
