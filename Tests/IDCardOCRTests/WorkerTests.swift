import Foundation
import IDCardContract
import IDCardRecognition
import IDCardTestSupport
import NIOConcurrencyHelpers
import Testing

@testable import IDCardQueue
@testable import IDCardWorker

@Suite("A worker against a real Redis and the 1429-1 fake")
struct WorkerTests {
    @Test("happy path: the contract's result shape, replyTo, and two Redis commands per job")
    func happyPath() async throws {
        try await Harness.scenario { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            let card = SyntheticCard.portrait()
            let replyTo = producer.keys.base + "reply:test"
            let jobs = (0..<30).map {
                Harness.job(id: "job-\($0)", card: $0 == 0 ? card : SyntheticCard.portrait(), replyTo: replyTo)
            }
            try await producer.enqueue(jobs)

            let commands = try await Harness.withWorker(configuration) { worker in
                try await Harness.eventually("30 results") { try await Harness.drained(producer, last: "job-29") }
                try await Harness.eventually("all replies") {
                    (try await producer.redis.send("LLEN", .string(replyTo)).int ?? 0) == 30
                }
                return worker.queue.commandCounts
            }

            let result = try #require(try await producer.result(id: "job-0"))
            #expect(result.status == .succeeded)
            #expect(result.provider == "showapi")
            #expect(result.attempts == 1)
            #expect(result.error == nil)
            #expect(result.meta == .object(["order": .int(7781)]))
            #expect(result.enqueuedAt != nil)
            #expect(result.durationMs >= 0)
            #expect(result.finishedAt.hasSuffix("Z") && result.finishedAt.count == 24)
            for field in ["name", "sex", "nationality", "birthday", "addr", "idNo"] {
                #expect(result.body?[field] == .string(card[field]!), "field \(field)")
            }
            #expect(result.body?["type"] == .string("1"))
            #expect(result.checks == ResultChecks(idNoChecksum: true, birthdayMatchesIdNo: true, sexMatchesIdNo: true))
            let raw = try #require(try await producer.resultData(id: "job-0"))
            #expect(String(decoding: raw, as: UTF8.self).contains(#""error":null"#))
            let ttl = try await producer.redis.send("TTL", .string(producer.keys.result("job-0"))).int ?? 0
            #expect(ttl > 600_000 && ttl <= 604_800)

            let reply = try #require(try await producer.waitForReply(on: replyTo, timeoutSeconds: 1))
            #expect(try JobResult.decode(reply).status == .succeeded)
            #expect(fake.stats.billed == 30)
            #expect(fake.stats.duplicateBilled == 0)

            // gate + finish per job: a busy worker's finish takes the next job. Aside: housekeeping,
            // and takes: the first ones, then the idle polls once the queue is empty (one per 50 ms
            // at most), whose number is the idle time's on a loaded machine, not the jobs'.
            let housekeeping: Set<String> = ["heartbeat", "reap", "promote", "stats", "deregister", "EVAL", "take"]
            let jobSteps = commands.filter { !housekeeping.contains($0.key) }
            #expect(jobSteps["gate"] == 30 && jobSteps["finish"] == 30)
            let total = jobSteps.values.reduce(0, +)
            #expect(total <= 2 * 30 + 5, "commands: \(jobSteps)")
            let stats = try await producer.stats()
            #expect(stats.pending == 0 && stats.processing == 0 && stats.dead == 0)
        }
    }

    @Test("transient failures are retried with backoff, then succeed; only the success is billed")
    func retryThenSuccess() async throws {
        var fakeConfiguration = ShowAPIFake.Configuration()
        fakeConfiguration.timeoutDuration = .seconds(6)  // past the worker's 5 s deadline
        try await Harness.scenario(fake: fakeConfiguration, configure: { $0.maxAttempts = 6 }) { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            try await producer.enqueue(
                Harness.job(id: "flaky", script: [.serverError, .malformed, .timeout, .drop, .rateLimited])
            )
            try await Harness.withWorker(configuration) { _ in
                let result = try await Harness.waitForResult(producer, id: "flaky", timeout: 30)
                #expect(result.status == .succeeded)
                #expect(result.attempts == 6)
            }
            #expect(fake.stats.billed == 1)
            #expect(try await producer.stats().dead == 0)
        }
    }

    @Test("a retryable error through the last attempt: attempts_exhausted, failed result and dead letter")
    func attemptsExhausted() async throws {
        try await Harness.scenario(configure: { $0.maxAttempts = 3 }) { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            let job = Harness.job(id: "always-502", script: Array(repeating: .serverError, count: 10))
            try await producer.enqueue(job)
            try await Harness.withWorker(configuration) { _ in
                let result = try await Harness.waitForResult(producer, id: "always-502")
                #expect(result.status == .failed)
                #expect(result.attempts == 3)
                #expect(result.error?.code == .attemptsExhausted)
                #expect(result.error?.message.contains("HTTP 502") == true)
                #expect(result.error?.retryable == false)
            }
            let letters = try await producer.deadLetters()
            #expect(letters.count == 1)
            let letter = try #require(letters.first?.letter)
            #expect(letter.error.code == .attemptsExhausted)
            #expect(letter.attempts == 3)
            #expect(letter.id == "always-502")
            #expect(letter.worker == configuration.workerID)
            #expect(fake.stats.calls == 3)
            let attempts = try await producer.redis.send("HLEN", .string(producer.keys.attempts)).int
            #expect(attempts == 0)
        }
    }

    @Test("IDOCR_CONCURRENCY calls are in flight at once, not the HTTP client's default of 8 connections")
    func callsInFlight() async throws {
        var fakeConfiguration = ShowAPIFake.Configuration()
        fakeConfiguration.latency = .milliseconds(1500)
        try await Harness.scenario(fake: fakeConfiguration, configure: { $0.concurrency = 24 }) { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            try await producer.enqueue((0..<24).map { Harness.job(id: "wide-\($0)") })
            try await Harness.withWorker(configuration) { _ in
                try await Harness.eventually("all 24 done") { try await producer.stats().succeeded == 24 }
            }
            // All 24 were sent within one slow answer of each other.
            #expect(fake.stats.maxPerSecond >= 20)
        }
    }

    @Test("no card found: not_recognized at once, no retry")
    func notRecognized() async throws {
        try await Harness.scenario { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            try await producer.enqueue(Harness.job(id: "blank", script: [.notRecognized]))
            try await Harness.withWorker(configuration) { _ in
                let result = try await Harness.waitForResult(producer, id: "blank")
                #expect(result.error?.code == .notRecognized)
                #expect(result.attempts == 1)
                #expect(result.provider == "showapi")
            }
            #expect(fake.stats.calls == 1)
            let stats = try await producer.stats()
            #expect(stats.dead == 1 && stats.failed == 1 && stats.succeeded == 0)
        }
    }

    @Test(
        "every kind of bad job is dead-lettered with its code, the raw element kept, nothing paid, good jobs unharmed"
    )
    func badJobs() async throws {
        try await Harness.scenario { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            let textImage = Data("hello".utf8).base64EncodedString()
            let huge = (Data([0xFF, 0xD8, 0xFF]) + Data(count: 4 * 1024 * 1024 + 10)).base64EncodedString()
            let cases: [(String, ErrorCode, String?)] = [
                ("this is not json", .invalidJob, nil),
                (#"{"imgUrl":"https://example.com/a.jpg"}"#, .invalidJob, nil),
                (#"{"id":"bad id!","imgUrl":"https://example.com/a.jpg"}"#, .invalidJob, nil),
                (#"{"id":"both","imgUrl":"https://example.com/a.jpg","imgData":"QUJD"}"#, .invalidJob, "both"),
                (#"{"id":"neither"}"#, .invalidJob, "neither"),
                (#"{"id":"b64","imgData":"%%%%"}"#, .invalidJob, "b64"),
                (#"{"id":"badtype","imgUrl":"https://example.com/a.jpg","type":"7"}"#, .invalidJob, "badtype"),
                (#"{"id":"text","imgData":"\#(textImage)"}"#, .imageUnreadable, "text"),
                (#"{"id":"huge","imgData":"\#(huge)"}"#, .imageTooLarge, "huge"),
                (#"{"id":"ftp","imgUrl":"ftp://example.com/a.jpg"}"#, .urlForbidden, "ftp"),
            ]
            for (element, _, _) in cases {
                _ = try await producer.redis.send("LPUSH", .string(producer.keys.pending), .string(element))
            }
            try await producer.enqueue(Harness.job(id: "good"))
            try await Harness.withWorker(configuration) { _ in
                try await Harness.eventually("all dead letters") { try await producer.stats().dead == cases.count }
                _ = try await Harness.waitForResult(producer, id: "good")
            }
            let letters = try await producer.deadLetters()
            for (element, code, id) in cases {
                let match = letters.first {
                    $0.letter?.raw == element || $0.letter?.job == JSONValue.parse(Data(element.utf8))
                }
                let letter = try #require(match?.letter, "dead letter for \(element.prefix(60))")
                #expect(letter.error.code == code, "\(element.prefix(60))")
                #expect(letter.attempts == 1)
                if let id {
                    let result = try #require(try await producer.result(id: id))
                    #expect(result.status == .failed && result.error?.code == code)
                }
            }
            #expect(letters.first { $0.letter?.raw == "this is not json" } != nil)
            #expect(try await producer.result(id: "good")?.status == .succeeded)
            #expect(fake.stats.calls == 1)
        }
    }

    @Test("a wrong appKey dead-letters nothing: the worker pauses, gives the job back, and resumes once the key works")
    func wrongAppKey() async throws {
        var fakeConfiguration = ShowAPIFake.Configuration()
        fakeConfiguration.appKey = "the-real-key"
        try await Harness.scenario(fake: fakeConfiguration) { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            try await producer.enqueue((0..<20).map { Harness.job(id: "k-\($0)") })
            try await Harness.withWorker(configuration) { worker in
                try await Harness.eventually("the worker pauses") { !worker.health.isReady }
                // The jobs that were in flight with the pause are given back; then only probes call.
                try await Harness.eventually("jobs in flight given back") { try await producer.stats().processing <= 1 }
                let callsAtPause = fake.stats.calls
                try await Task.sleep(for: .milliseconds(1500))
                // Probes back off (here 0.2 s doubling to 1 s): a handful in 1.5 s, not a tight loop.
                #expect(fake.stats.calls - callsAtPause <= 5)
                let stats = try await producer.stats()
                #expect(stats.dead == 0)
                #expect(stats.pending + stats.processing == 20)
                #expect(try await producer.redis.send("HLEN", .string(producer.keys.attempts)).int == 0)
                #expect(worker.health.pausedReason?.contains("-1004") == true)
                // Operators see it in Redis too (stats --watch): the heartbeat carries the pause.
                try await Harness.eventually("stats shows the paused worker") {
                    try await producer.stats().pausedWorkers == 1
                }

                fake.update { $0.appKey = Harness.appKey }
                try await Harness.eventually("jobs complete after the key is fixed", timeout: 30) {
                    try await Harness.drained(producer, last: "k-19")
                }
                #expect(worker.health.isReady)
                try await Harness.eventually("stats shows it ready again") {
                    try await producer.stats().pausedWorkers == 0
                }
                #expect(try await producer.stats().succeeded == 20)
            }
            for index in 0..<20 {
                let result = try #require(try await producer.result(id: "k-\(index)"))
                #expect(result.status == .succeeded && result.attempts == 1)
            }
            #expect(try await producer.stats().dead == 0)
        }
    }

    @Test("one image the API refuses (HTTP 403) is dead-lettered as rejected_by_api, and the fleet goes on")
    func oneImageRefused() async throws {
        try await Harness.scenario { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            let refused = Harness.job(id: "refused", script: Array(repeating: .http403, count: 20))
            try await producer.enqueue([refused] + (0..<9).map { Harness.job(id: "fine-\($0)") })
            try await Harness.withWorker(configuration) { worker in
                let result = try await Harness.waitForResult(producer, id: "refused", timeout: 30)
                #expect(
                    result.status == .failed && result.error?.code == .rejectedByAPI && result.error?.retryable == false
                )
                #expect(result.error?.message.contains("403") == true)
                try await Harness.eventually("the others done", timeout: 30) {
                    try await producer.stats().succeeded == 9
                }
                try await Harness.eventually("ready") { worker.health.isReady }
            }
            let stats = try await producer.stats()
            #expect(stats.dead == 1 && stats.pending == 0 && stats.processing == 0)
            #expect(fake.stats.billed == 9)
        }
    }

    @Test("HTTP 401 for every call dead-letters nothing; once the key works every job succeeds, the one kept aside too")
    func everyCallRefused() async throws {
        var fakeConfiguration = ShowAPIFake.Configuration()
        fakeConfiguration.refuseEveryCall = 401
        try await Harness.scenario(fake: fakeConfiguration) { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            try await producer.enqueue((0..<12).map { Harness.job(id: "r-\($0)") })
            try await Harness.withWorker(configuration) { worker in
                try await Harness.eventually("the worker pauses") {
                    worker.health.pausedReason?.contains("401") == true
                }
                // Several probes, each a different job, all refused.
                try await Harness.eventually("several probes refused", timeout: 15) { fake.stats.calls >= 12 }
                #expect(try await producer.stats().dead == 0)
                fake.update { $0.refuseEveryCall = nil }
                try await Harness.eventually("every job done once the key works", timeout: 30) {
                    try await producer.stats().succeeded == 12
                }
                #expect(worker.health.isReady)
            }
            let stats = try await producer.stats()
            #expect(stats.dead == 0 && stats.failed == 0 && stats.pending == 0 && stats.processing == 0)
            #expect(fake.stats.billed == 12)
        }
    }

    @Test(
        """
        a call that died after its request went out is retried through the gate, and counted as a possible double \
        payment
        """
    )
    func unansweredCounted() async throws {
        try await Harness.scenario { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            try await producer.enqueue(Harness.job(id: "dropped", script: [.drop]))
            try await Harness.withWorker(configuration) { _ in
                let result = try await Harness.waitForResult(producer, id: "dropped")
                #expect(result.status == .succeeded && result.attempts == 2)
            }
            #expect(fake.stats.calls == 2)
            let unanswered = Harness.metrics.counterTotal(
                label: "idocr_ocr_unanswered_total",
                dimensions: [("queue", configuration.queue), ("provider", "showapi")]
            )
            #expect(unanswered == 1)
        }
    }

    @Test("every rate-limited call's wait for its slot is recorded, zero waits included")
    func zeroWaitsRecorded() async throws {
        try await Harness.scenario(configure: {
            $0.rateLimit = 1000
            $0.concurrency = 1
        }) { scenario in
            let (configuration, producer) = (scenario.configuration, scenario.producer)
            try await producer.enqueue((0..<10).map { Harness.job(id: "w-\($0)") })
            try await Harness.withWorker(configuration) { _ in
                try await Harness.eventually("10 done") { try await producer.stats().succeeded == 10 }
            }
            let waits = Harness.metrics.timers(
                label: "idocr_rate_limit_wait_seconds",
                dimensions: [("queue", configuration.queue)]
            )
            #expect(waits.reduce(0) { $0 + $1.values.count } == 10)
        }
    }

    @Test("quota used up (-2) pauses the worker: its jobs back in pending, no more calls, not ready")
    func quotaUsedUp() async throws {
        var fakeConfiguration = ShowAPIFake.Configuration()
        fakeConfiguration.quotaExhausted = true
        try await Harness.scenario(fake: fakeConfiguration) { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            try await producer.enqueue((0..<5).map { Harness.job(id: "q-\($0)") })
            // The first probe is a minute away: whatever calls the API in this test is not a probe.
            let probes = RetryPolicy(base: .seconds(60), cap: .seconds(60))
            try await Harness.withWorker(configuration, probes: probes) { worker in
                try await Harness.eventually("the worker pauses") { worker.health.pausedReason?.contains("-2") == true }
                // Observed while paused, not after the stop (which gives every job back anyway).
                try await Harness.eventually("the jobs given back") {
                    let stats = try await producer.stats()
                    return stats.pending == 5 && stats.processing == 0
                }
                let callsAtPause = fake.stats.calls
                #expect(callsAtPause >= 1 && callsAtPause <= 5)
                try await Task.sleep(for: .milliseconds(1500))
                #expect(fake.stats.calls == callsAtPause)
                #expect(!worker.health.isReady)
                let stats = try await producer.stats()
                #expect(stats.pending == 5 && stats.processing == 0 && stats.delayed == 0)
                #expect(stats.dead == 0 && stats.failed == 0 && stats.pausedWorkers == 1)
                #expect(try await producer.redis.send("HLEN", .string(producer.keys.attempts)).int == 0)
            }
            #expect(fake.stats.billed == 0)
        }
    }

    @Test("dedupe: a succeeded id is not sent again, identical bytes reuse the recognition")
    func dedupe() async throws {
        try await Harness.scenario { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            let original = Harness.job(id: "same-id")
            try await producer.enqueue(original)
            try await Harness.withWorker(configuration) { _ in
                let first = try await Harness.waitForResult(producer, id: "same-id")
                // The same job again, with a reply list: no call, the stored result is the answer.
                var again = original
                again.replyTo = producer.keys.reply("again")
                try await producer.enqueue(again)
                let reply = try #require(try await producer.waitForReply(on: again.replyTo!, timeoutSeconds: 10))
                #expect(try JobResult.decode(reply) == first)
                // Same bytes under another id: a new result from the remembered recognition.
                var copy = original
                copy.id = "other-id"
                try await producer.enqueue(copy)
                let second = try await Harness.waitForResult(producer, id: "other-id")
                #expect(second.body == first.body)
                #expect(second.status == .succeeded)
                // A bad job reusing a succeeded id is dead-lettered but leaves the success in place.
                _ = try await producer.redis.send(
                    "LPUSH",
                    .string(producer.keys.pending),
                    .string(#"{"id":"same-id","imgData":"%%%"}"#)
                )
                try await Harness.eventually("the bad job's dead letter") { try await producer.stats().dead == 1 }
                #expect(try await producer.result(id: "same-id") == first)
            }
            #expect(fake.stats.billed == 1)
            #expect(fake.stats.calls == 1)
        }
    }

    @Test("the same bytes asked another question (type, needQuality) are recognized again, not answered from memory")
    func anotherQuestionPays() async throws {
        try await Harness.scenario { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            let original = Harness.job(id: "question-portrait", side: .portrait)
            var questions = [original]
            for (id, side, needQuality) in [
                ("question-detect", Job.Side.detect, false), ("question-quality", .portrait, true),
            ] {
                var copy = original
                (copy.id, copy.side, copy.needQuality) = (id, side, needQuality)
                questions.append(copy)
            }
            var again = original
            again.id = "question-portrait-again"  // the first question again: from memory
            let jobs = questions + [again]
            try await Harness.withWorker(configuration) { _ in
                for job in jobs {
                    try await producer.enqueue(job)
                    #expect(try await Harness.waitForResult(producer, id: job.id).status == .succeeded)
                }
            }
            #expect(fake.stats.calls == 3)
            let remembered = try await producer.redis.send("KEYS", .string(producer.keys.image("*"))).array ?? []
            #expect(remembered.count == 3)
        }
    }

    @Test("a remembered recognition lives as long as a result: after IDOCR_RESULT_TTL the same bytes pay again")
    func rememberedExpires() async throws {
        try await Harness.scenario(configure: { $0.resultTTL = 2 }) { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            let first = Harness.job(id: "expiring-0")
            var copy = first
            copy.id = "expiring-1"
            let second = copy
            try await Harness.withWorker(configuration) { _ in
                try await producer.enqueue(first)
                _ = try await Harness.waitForResult(producer, id: "expiring-0")
                let key = try Harness.rememberedKey(of: first, in: producer)
                let ttl = try await producer.redis.send("PTTL", .string(key)).int ?? -2
                #expect(ttl > 0 && ttl <= 2000)
                try await Harness.eventually("the remembered recognition expired", timeout: 5) {
                    try await producer.redis.send("EXISTS", .string(key)).int == 0
                }
                try await producer.enqueue(second)
                _ = try await Harness.waitForResult(producer, id: "expiring-1")
            }
            #expect(fake.stats.calls == 2)
        }
    }

    @Test("a remembered recognition that cannot be read is recognized again once, in a rate slot, and remembered anew")
    func unreadableRememberedRecognition() async throws {
        var fakeConfiguration = ShowAPIFake.Configuration()
        fakeConfiguration.strictQPS = 3
        fakeConfiguration.latency = .milliseconds(300)
        try await Harness.scenario(fake: fakeConfiguration, configure: { $0.rateLimit = 2 }) { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            // Four ids, one image, whose remembered recognition is garbage: each job may find it at
            // its gate; one pays for a new recognition, the others wait for it instead of each paying.
            let original = Harness.job(id: "unreadable-0")
            let planted = try Harness.rememberedKey(of: original, in: producer)
            _ = try await producer.redis.send("SET", .string(planted), .string("not a recognition"))
            try await producer.enqueue(
                (0..<4).map { n in
                    var copy = original
                    copy.id = "unreadable-\(n)"
                    return copy
                }
            )
            try await Harness.withWorker(configuration) { _ in
                try await Harness.eventually("4 results", timeout: 30) { try await producer.stats().succeeded == 4 }
            }
            // The planted value was the one the jobs found, and the recognition paid for replaced it.
            let unreadable = Harness.metrics.counterTotal(
                label: "idocr_remembered_unreadable_total",
                dimensions: [("queue", configuration.queue)]
            )
            #expect(unreadable >= 1 && unreadable <= 4)
            let remembered = try #require(try await producer.redis.send("GET", .string(planted)).data)
            #expect(Recognition(try #require(JSONValue.parse(remembered))) != nil)
            #expect(fake.stats.rejectedForRate == 0)
            #expect(fake.stats.calls == 1)
            for n in 0..<4 { #expect(try await producer.result(id: "unreadable-\(n)")?.status == .succeeded) }
        }
    }

    @Test("the fleet's rate limit holds against a strict limiter, and uses it")
    func rateLimit() async throws {
        var fakeConfiguration = ShowAPIFake.Configuration()
        fakeConfiguration.strictQPS = 24
        fakeConfiguration.latency = .milliseconds(20)
        try await Harness.scenario(
            fake: fakeConfiguration,
            configure: {
                $0.rateLimit = 20
                $0.concurrency = 16
            }
        ) { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            try await producer.enqueue((0..<60).map { Harness.job(id: "r-\($0)") })
            let started = ContinuousClock.now
            try await Harness.withWorker(configuration) { _ in
                try await Harness.eventually("60 results", timeout: 30) {
                    try await Harness.drained(producer, last: "r-59")
                }
            }
            let elapsed = ContinuousClock.now - started
            #expect(fake.stats.rejectedForRate == 0)
            // Slots are 50 ms apart when reserved; a call sent late can land near the next one,
            // so a sliding second may see one or two more than 20, never the limiter's 24.
            #expect(fake.stats.maxPerSecond < 24)
            #expect(fake.stats.billed == 60)
            #expect(elapsed >= .seconds(2.5))  // 60 calls at 20/s cannot finish sooner
        }
    }

    @Test("a call written late pushes the fleet's next slot back by its lateness")
    func lateCallPushesBack() async throws {
        try await Harness.scenario(configure: {
            $0.rateLimit = 20
            $0.concurrency = 1
        }) { scenario in
            let (configuration, producer) = (scenario.configuration, scenario.producer)
            try await producer.enqueue((0..<4).map { Harness.job(id: "late-\($0)") })
            let writes = WriteTimes()
            try await Harness.withWorker(
                configuration,
                wrap: { LateWriting(recognizer: $0, late: .milliseconds(300), writes: writes) }
            ) { _ in
                try await Harness.eventually("4 results", timeout: 30) {
                    try await Harness.drained(producer, last: "late-3")
                }
            }
            // On time, one job after another would leave ~300 ms apart (its own lateness and the
            // answer); each late write adds its 300 ms to the wait for the next slot.
            let instants = writes.instants
            #expect(instants.count == 4)
            for (earlier, later) in zip(instants, instants.dropFirst()) {
                #expect(later - earlier >= .milliseconds(580))
            }
        }
    }

    @Test("the 1429-1 recognizer reports when each rate-limited request goes out")
    func sentReported() async throws {
        try await Harness.scenario(configure: { $0.rateLimit = 50 }) { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            try await producer.enqueue((0..<3).map { Harness.job(id: "sent-\($0)") })
            let sends = WriteTimes()
            try await Harness.withWorker(configuration, wrap: { ReportedSends(recognizer: $0, sends: sends) }) { _ in
                try await Harness.eventually("3 results", timeout: 30) {
                    try await Harness.drained(producer, last: "sent-2")
                }
            }
            #expect(sends.instants.count == 3)
            #expect(fake.stats.calls == 3)
        }
    }

    @Test("the 1429-1 API over https, its certificate checked against SHOWAPI_CA_FILE")
    func https() async throws {
        let certificates = try await TestCertificates(names: ["DNS:localhost"])
        defer { certificates.remove() }
        try await Harness.scenario(
            tls: try certificates.serverTLS(),
            configure: { $0.showAPICAFile = certificates.caFile }
        ) { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            #expect(configuration.showAPIURL.hasPrefix("https://localhost:"))
            try await producer.enqueue((0..<3).map { Harness.job(id: "tls-\($0)") })
            try await Harness.withWorker(configuration) { _ in
                try await Harness.eventually("3 results", timeout: 30) {
                    try await Harness.drained(producer, last: "tls-2")
                }
            }
            #expect(try await producer.result(id: "tls-0")?.status == .succeeded)
            #expect(fake.stats.billed == 3)
        }
    }

    @Test("a rate-limit answer (HTTP 429) holds the refused job back for the cool-down, and it still succeeds")
    func coolDown() async throws {
        try await Harness.scenario(configure: {
            $0.rateLimit = 100
            $0.rateCoolDown = 1
        }) { scenario in
            let (configuration, producer) = (scenario.configuration, scenario.producer)
            try await producer.enqueue(Harness.job(id: "limited", script: [.http429]))
            let started = ContinuousClock.now
            try await Harness.withWorker(configuration) { _ in
                _ = try await Harness.waitForResult(producer, id: "limited")
            }
            // The retry could not be sent before the fleet's cool-down had passed.
            #expect(ContinuousClock.now - started >= .milliseconds(900))
            #expect(try await producer.result(id: "limited")?.attempts == 2)
        }
    }
}

/// A recognizer whose requests are written `late` after the worker lets go of them, as on a
/// starved process: the write is reported then, and the call made.
private struct LateWriting: Recognizer {
    let recognizer: any Recognizer
    let late: Duration
    let writes: WriteTimes
    var provider: String { recognizer.provider }

    func recognize(_ request: RecognitionRequest) async throws -> Recognition {
        try await Task.sleep(for: late)
        writes.record()
        request.sent?()
        var request = request
        request.sent = nil
        return try await recognizer.recognize(request)
    }
}

/// Passes requests on, noting each time the recognizer reports one going out.
private struct ReportedSends: Recognizer {
    let recognizer: any Recognizer
    let sends: WriteTimes
    var provider: String { recognizer.provider }

    func recognize(_ request: RecognitionRequest) async throws -> Recognition {
        var request = request
        let reported = request.sent
        request.sent = { [sends] in
            sends.record()
            reported?()
        }
        return try await recognizer.recognize(request)
    }
}

private final class WriteTimes: Sendable {
    private let box = NIOLockedValueBox<[ContinuousClock.Instant]>([])
    var instants: [ContinuousClock.Instant] { box.withLockedValue { $0 } }
    func record() { box.withLockedValue { $0.append(.now) } }
}
