import Foundation
import IDCardContract
import IDCardTestSupport
import IDCardWorker
import Testing

@testable import IDCardQueue

@Suite("Encryption at rest")
struct EncryptionTests {
    static func key(_ byte: UInt8) -> String { Data(repeating: byte, count: 32).base64EncodedString() }

    @Test(
        "a worker with keys stores bodies, dead-lettered jobs and remembered recognitions sealed; they open and requeue"
    )
    func workerSeals() async throws {
        let keys = try EncryptionKeys(parsing: "k1:\(Self.key(9))")
        try await Harness.scenario(configure: { $0.encryptionKeys = keys }) { scenario in
            let (fake, configuration, producer) = (scenario.fake, scenario.configuration, scenario.producer)
            let card = SyntheticCard.portrait()
            let good = Harness.job(id: "sealed-ok", card: card)
            var sameBytes = good
            sameBytes.id = "sealed-copy"
            let copy = sameBytes
            let failing = Harness.job(id: "sealed-fail", card: card, script: [.notRecognized])
            try await producer.enqueue(good)
            try await Harness.withWorker(configuration) { _ in
                _ = try await Harness.waitForResult(producer, id: "sealed-ok")
                try await producer.enqueue([copy, failing])
                _ = try await Harness.waitForResult(producer, id: "sealed-copy")
                _ = try await Harness.waitForResult(producer, id: "sealed-fail")
            }
            // The stored result: status and checks readable, the body sealed, opening to the card.
            let raw = try #require(try await producer.resultData(id: "sealed-ok"))
            #expect(!String(decoding: raw, as: UTF8.self).contains(card["idNo"]!))
            let stored = try JobResult.decode(raw)
            #expect(stored.status == .succeeded && stored.hasSealedBody && stored.checks?.idNoChecksum == true)
            #expect(try stored.openingBody(with: keys).body?["idNo"] == .string(card["idNo"]!))
            // Identical bytes reused the sealed recognition: one call for two jobs.
            #expect(
                try await producer.result(id: "sealed-copy")?.openingBody(with: keys).body?["idNo"]
                    == .string(card["idNo"]!)
            )
            let imageKeys = try await producer.redis.send("KEYS", .string(producer.keys.base + "image:*")).array ?? []
            let imageKey = try #require(imageKeys.first?.data)
            let remembered = try #require(try await producer.redis.send("GET", .data(imageKey)).data)
            #expect(JSONValue.parse(remembered)?.isSealed == true)
            #expect(fake.stats.calls == 2)  // sealed-ok and sealed-fail
            // The dead letter: the job sealed, its id listed; it opens to the job and requeues unchanged.
            let (element, letter) = try #require(try await producer.deadLetters().first)
            #expect(!String(decoding: element, as: UTF8.self).contains("imgData"))
            let sealedLetter = try #require(letter)
            #expect(
                sealedLetter.isSealed && sealedLetter.id == "sealed-fail" && sealedLetter.error.code == .notRecognized
            )
            #expect(try sealedLetter.opened(with: keys).job == JSONValue.parse(failing.encoded()))
            #expect(try await producer.requeueDeadLetters(opening: nil) == (0, 1))  // no keys: left in place
            #expect(try await producer.requeueDeadLetters(opening: keys) == (1, 0))
            let requeued = try #require(
                try await producer.redis.send("LINDEX", .string(producer.keys.pending), "0").data
            )
            #expect(JSONValue.parse(requeued) == JSONValue.parse(failing.encoded()))
        }
    }
}
