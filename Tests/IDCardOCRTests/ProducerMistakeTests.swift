import Foundation
import IDCardContract
import IDCardRecognition
import IDCardTestSupport
import IDCardWorker
import Testing

@testable import IDCardQueue

/// A careless or hostile producer harms nothing but its own jobs: no key outside the queue's
/// namespace is written, no one gets another image's fields, no call is paid twice for one.
@Suite("Producers' mistakes harm nothing else")
struct ProducerMistakeTests {
    @Test("a replyTo outside the queue's namespace is invalid_job, and no script touches the key it names")
    func replyToConfined() async throws {
        try await Harness.scenario { scenario in
            let (configuration, producer) = (scenario.configuration, scenario.producer)
            let keys = producer.keys
            // Another system's list, and the queue's own lists and keys a job could name.
            let foreign = "orders:{\(keys.queue)}:events"
            _ = try await producer.redis.send("RPUSH", .string(foreign), "event-1")
            let named = [
                foreign, keys.dead, keys.pending, keys.processing(configuration.workerID), keys.delayed,
                keys.result("x"), keys.replyPrefix,
            ]
            var jobs: [String] = []
            for (index, key) in named.enumerated() {
                let job = Harness.job(id: "bad-reply-\(index)").encoded()
                var element = String(decoding: job, as: UTF8.self)
                element.removeLast()
                jobs.append(
                    element + ",\"replyTo\":" + String(decoding: JSONValue.string(key).encoded(), as: UTF8.self) + "}"
                )
            }
            _ = try await producer.redis.send(["LPUSH", .string(keys.pending)] + jobs.map { RedisArgument.string($0) })
            try await producer.enqueue(Harness.job(id: "good-reply", replyTo: keys.reply("good")))
            try await Harness.withWorker(configuration) { _ in
                try await Harness.eventually("every job ended") {
                    let dead = try await producer.stats().dead
                    let good = try await producer.resultData(id: "good-reply")
                    return dead == named.count && good != nil
                }
            }
            for index in named.indices {
                let result = try #require(try await producer.result(id: "bad-reply-\(index)"))
                #expect(result.error?.code == .invalidJob)
                #expect(result.error?.message.contains(keys.replyPrefix) == true)
            }
            // The foreign list is as it was: no reply pushed, no expiry set.
            #expect(
                try await producer.redis.send("LRANGE", .string(foreign), "0", "-1")
                    == .array([.bulk(Data("event-1".utf8))])
            )
            #expect(try await producer.redis.send("TTL", .string(foreign)).int == -1)
            #expect(try await producer.redis.send("TTL", .string(keys.dead)).int == -1)
            #expect(try await producer.redis.send("LLEN", .string(keys.dead)).int == named.count)
            #expect(try await producer.redis.send("LLEN", .string(keys.reply("good"))).int == 1)
            // A Swift producer is told before the job is pushed.
            await #expect(throws: JobError.self) {
                try await producer.enqueue(Harness.job(id: "swift-bad", replyTo: foreign))
            }
        }
    }

    @Test("an id reused for another image gets id_conflict, not the other image's fields; the stored result stays")
    func idReusedForAnotherImage() async throws {
        try await Harness.scenario { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            let first = Harness.job(id: "order-1", card: SyntheticCard.portrait())
            try await producer.enqueue(first)
            try await Harness.withWorker(configuration) { _ in
                let stored = try await Harness.waitForResult(producer, id: "order-1")
                #expect(stored.status == .succeeded)
                // Another producer's card under the same id, waiting on its own reply list.
                let other = Harness.job(
                    id: "order-1",
                    card: SyntheticCard.portrait(),
                    replyTo: producer.keys.reply("other-producer")
                )
                try await producer.enqueue(other)
                let reply = try #require(try await producer.waitForReply(on: other.replyTo!, timeoutSeconds: 10))
                let answer = try JobResult.decode(reply)
                #expect(
                    answer.status == .failed && answer.error?.code == .idConflict && answer.error?.retryable == false
                )
                #expect(answer.body == nil)
                #expect(!String(decoding: reply, as: UTF8.self).contains(stored.body?["idNo"]?.stringValue ?? "-"))
                #expect(try await producer.result(id: "order-1") == stored)
                let letter = try #require(try await producer.deadLetters().first?.letter)
                #expect(letter.error.code == .idConflict && letter.id == "order-1")
                // The same job once more: still deduplicated, as before.
                var repeated = first
                repeated.replyTo = producer.keys.reply("repeat")
                try await producer.enqueue(repeated)
                let again = try #require(try await producer.waitForReply(on: repeated.replyTo!, timeoutSeconds: 10))
                #expect(try JobResult.decode(again) == stored)
            }
            #expect(fake.stats.billed == 1)
        }
    }

    @Test("the same job pushed twice at once, and the same bytes under two ids at once, are paid once")
    func concurrentDuplicates() async throws {
        var fakeConfiguration = ShowAPIFake.Configuration()
        fakeConfiguration.latency = .milliseconds(800)
        try await Harness.scenario(fake: fakeConfiguration, configure: { $0.concurrency = 8 }) { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            let job = Harness.job(id: "twice-at-once")
            var sameBytes = Harness.job(id: "bytes-a")
            var otherID = sameBytes
            otherID.id = "bytes-b"
            sameBytes.replyTo = producer.keys.reply("a")
            otherID.replyTo = producer.keys.reply("b")
            try await producer.enqueue([job, job, sameBytes, otherID])
            // Two workers, so duplicates are also taken by two processes' worth of slots at once.
            var secondConfiguration = configuration
            secondConfiguration.workerID = configuration.workerID + "-second"
            let second = secondConfiguration
            try await Harness.withWorker(configuration) { _ in
                try await Harness.withWorker(second) { _ in
                    try await Harness.eventually("every job ended") {
                        try await producer.stats().succeeded == 4
                    }
                }
            }
            #expect(fake.stats.billed == 2)
            #expect(fake.stats.duplicateBilled == 0)
            let a = try #require(try await producer.result(id: "bytes-a"))
            let b = try #require(try await producer.result(id: "bytes-b"))
            #expect(a.body == b.body && a.status == .succeeded && b.status == .succeeded)
        }
    }

    @Test("a recognition remembered from one provider is not reused by another")
    func rememberedPerProvider() async throws {
        try await Harness.scenario { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            let image = FakeImage.make(card: SyntheticCard.portrait())
            try await producer.enqueue(Job(id: "by-showapi", image: .base64(encoding: image), side: .portrait))
            try await Harness.withWorker(configuration) { _ in
                _ = try await Harness.waitForResult(producer, id: "by-showapi")
            }
            try await producer.enqueue(Job(id: "by-other", image: .base64(encoding: image), side: .portrait))
            try await Harness.withWorker(configuration, wrap: { ProviderRenamed($0, provider: "other") }) { _ in
                let result = try await Harness.waitForResult(producer, id: "by-other")
                #expect(result.provider == "other")
            }
            #expect(fake.stats.billed == 2)
        }
    }

    /// The same recognizer under another provider name, as a worker switched to another provider would be.
    struct ProviderRenamed: Recognizer {
        let inner: any Recognizer
        let provider: String
        init(_ inner: any Recognizer, provider: String) {
            self.inner = inner
            self.provider = provider
        }
        func recognize(_ request: RecognitionRequest) async throws -> Recognition {
            var recognition = try await inner.recognize(request)
            recognition.provider = provider
            return recognition
        }
    }

    @Test("an element of control bytes makes a dead letter at most twice its size, and requeues byte for byte")
    func controlBytesStaySmall() async throws {
        try await Harness.scenario { scenario in
            let (configuration, producer) = (scenario.configuration, scenario.producer)
            let element = Data((0..<(1 << 20)).map { UInt8($0 % 31 + 1) })  // 1 MiB of \u0001...\u001f
            _ = try await producer.redis.send("LPUSH", .string(producer.keys.pending), .data(element))
            try await Harness.withWorker(configuration) { _ in
                try await Harness.eventually("the dead letter") { try await producer.stats().dead == 1 }
            }
            let (stored, letter) = try #require(try await producer.deadLetters().first)
            #expect(
                stored.count <= 2 * element.count,
                "dead letter of \(stored.count) bytes for an element of \(element.count)"
            )
            #expect(letter?.rawElement == element && letter?.error.code == .invalidJob)
            #expect(try await producer.requeueDeadLetters().requeued == 1)
            #expect(try await producer.redis.send("RPOP", .string(producer.keys.pending)).data == element)
        }
    }

    @Test(
        """
        an element too large for any job is refused in Redis at the take: never moved into the worker, kept whole for \
        requeue
        """
    )
    func oversizedRefusedAtTake() async throws {
        try await Harness.withRedis { redis in
            let queue = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: Harness.uniqueQueue()))
            let limit = 64 << 10
            var big = Harness.job(id: "too-big", replyTo: queue.keys.reply("too-big")).encoded()
            big.removeLast()
            big.append(
                contentsOf: ",\"padding\":\"".utf8 + Data(repeating: UInt8(ascii: "x"), count: 3 * limit) + "\"}".utf8
            )
            try await queue.enqueue(Harness.job(id: "fits"))
            _ = try await queue.redis.send("LPUSH", .string(queue.keys.pending), .data(big))
            try await queue.enqueue(Harness.job(id: "fits-too"))
            let registration = try await queue.register(worker: "w").registration
            let take = try await queue.take(registration, limit: 3, maxElementBytes: limit)
            #expect(take.jobs.map(\.id) == ["fits", "fits-too"])
            let refused = try #require(take.refused.first)
            #expect(take.refused.count == 1 && refused.bytes == big.count && refused.head == big.prefix(4096))
            #expect(JSONValue.leadingFields(ofObjectPrefix: refused.head)["id"] == .string("too-big"))
            let (stored, letter) = try #require(try await queue.deadLetters().first)
            #expect(stored.count < 1024)
            #expect(letter?.error.code == .imageTooLarge && letter?.oversized?.bytes == big.count)
            // dlq requeue puts it back byte for byte, and lets go of the kept copy.
            #expect(try await queue.requeueDeadLetters().requeued == 1)
            #expect(try await queue.redis.send("RPOP", .string(queue.keys.pending)).data == big)
            #expect(try await queue.redis.send("EXISTS", .string(queue.keys.oversized)).int == 0)
            await queue.shutdown()
        }
    }

    @Test("a worker answers a refused oversized job under its id, with a reply, and goes on")
    func oversizedAnswered() async throws {
        try await Harness.scenario(configure: { $0.maxImageBytes = 32 << 10 }) { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            var big = Harness.job(id: "too-big", replyTo: producer.keys.reply("too-big")).encoded()
            big.removeLast()
            big.append(
                contentsOf: ",\"padding\":\"".utf8 + Data(repeating: UInt8(ascii: "x"), count: 1 << 20) + "\"}".utf8
            )
            _ = try await producer.redis.send("LPUSH", .string(producer.keys.pending), .data(big))
            try await producer.enqueue(Harness.job(id: "after"))
            try await Harness.withWorker(configuration) { _ in
                let reply = try #require(
                    try await producer.waitForReply(on: producer.keys.reply("too-big"), timeoutSeconds: 10)
                )
                #expect(try JobResult.decode(reply).error?.code == .imageTooLarge)
                #expect(try await Harness.waitForResult(producer, id: "after").status == .succeeded)
            }
            #expect(fake.stats.billed == 1)
            let stats = try await producer.stats()
            #expect(stats.dead == 1 && stats.failed == 1 && stats.succeeded == 1 && stats.processing == 0)
        }
    }

    @Test("dlq requeue finds a letter at any depth, and a requeue of all is not stopped by letters it cannot open")
    func requeueDeep() async throws {
        try await Harness.withRedis { redis in
            let queue = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: Harness.uniqueQueue()))
            let error = JobError(.attemptsExhausted, "test")
            let keys = try EncryptionKeys(parsing: "k1:" + Data(repeating: 1, count: 32).base64EncodedString())
            func letter(_ id: String, sealed: Bool = false) throws -> Data {
                let job = ReceivedJob(element: Harness.job(id: id).encoded())
                let encoding = try DeadLetter.encode(
                    job,
                    error: error,
                    attempts: 5,
                    worker: "w",
                    keys: sealed ? keys : nil
                )
                return encoding.head + (encoding.embedding == .verbatim ? job.element : Data()) + encoding.tail
            }
            // The deepest letter first (LPUSH: newest on the left), then 1,500 letters sealed with a
            // key the operator does not have, then plain ones.
            var elements = [try letter("deepest")]
            for index in 0..<1500 { elements.append(try letter("sealed-\(index)", sealed: true)) }
            for index in 0..<20 { elements.append(try letter("plain-\(index)")) }
            for chunk in stride(from: 0, to: elements.count, by: 500) {
                _ = try await queue.redis.send(
                    ["LPUSH", .string(queue.keys.dead)]
                        + elements[chunk..<min(chunk + 500, elements.count)].map { .data($0) }
                )
            }
            #expect(try await queue.requeueDeadLetters(ids: ["deepest"]) == (1, 0))
            #expect(try await queue.stats().pending == 1)
            let all = try await queue.requeueDeadLetters()
            #expect(all.requeued == 20 && all.leftSealed == 1500)
            #expect(try await queue.stats().dead == 1500)
            await queue.shutdown()
        }
    }
}
