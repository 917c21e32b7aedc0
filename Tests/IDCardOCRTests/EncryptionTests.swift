import Foundation
import IDCardContract
@testable import IDCardQueue
import IDCardTestSupport
import IDCardWorker
import Testing

@Suite("Encryption at rest")
struct EncryptionTests {
    static func key(_ byte: UInt8) -> String { Data(repeating: byte, count: 32).base64EncodedString() }

    @Test("sealed values open with any listed key, only in their own place, and not once altered")
    func sealAndOpen() throws {
        let old = try EncryptionKeys(parsing: "2026-10:\(Self.key(1))")
        let rotated = try EncryptionKeys(parsing: "2026-11:\(Self.key(2)), 2026-10:\(Self.key(1))")
        let plain = Data(#"{"name":"王小明","idNo":"11010519491231002X"}"#.utf8)

        let sealed = try old.seal(plain, for: .resultBody(id: "a"))
        #expect(sealed.isSealed && sealed["kid"] == .string("2026-10"))
        #expect(!String(decoding: sealed.encoded(), as: UTF8.self).contains("王小明"))
        #expect(try rotated.open(sealed, for: .resultBody(id: "a")) == plain)  // the old key still opens
        #expect(try rotated.seal(plain, for: .resultBody(id: "a"))["kid"] == .string("2026-11"))  // the new one seals

        #expect(throws: EncryptionError.self) { try rotated.open(sealed, for: .resultBody(id: "b")) }  // moved to another job
        var altered = sealed
        if case .object(var fields) = altered, case .string(let data)? = fields["data"] {
            var bytes = Data(base64Encoded: data)!
            bytes[bytes.count - 1] ^= 1
            fields["data"] = .string(bytes.base64EncodedString())
            altered = .object(fields)
        }
        #expect(throws: EncryptionError.self) { try rotated.open(altered, for: .resultBody(id: "a")) }
        let newOnly = try EncryptionKeys(parsing: "2026-11:\(Self.key(2))")
        #expect(throws: EncryptionError("sealed with key 2026-10, which is not among the keys given")) { try newOnly.open(sealed, for: .resultBody(id: "a")) }
    }

    /// A value moved between places of the same id or bytes: a result body into a dead letter, a
    /// remembered recognition to another image's key, a dead letter's job into its raw field.
    @Test("a sealed value opens only in its own kind of place: none of the others of the same id or bytes")
    func placesAcrossKinds() throws {
        let keys = try EncryptionKeys(parsing: "k:\(Self.key(3))")
        let places: [EncryptionKeys.Context] = [
            .resultBody(id: "a"), .deadLetterJob(id: "a"), .deadLetterJob(id: nil), .deadLetterRaw,
            .rememberedRecognition(key: "showapi:a:1:0"), .rememberedRecognition(key: "showapi:b:1:0"),
            .rememberedRecognition(key: "showapi:a:2:0"), .rememberedRecognition(key: "showapi:a:1:1"),
        ]
        let plain = Data(#"{"idNo":"11010519491231002X"}"#.utf8)
        for (sealedIndex, sealedFor) in places.enumerated() {
            let sealed = try keys.seal(plain, for: sealedFor)
            for (openedIndex, openedAt) in places.enumerated() {
                if openedIndex == sealedIndex {
                    #expect(try keys.open(sealed, for: openedAt) == plain)
                } else {
                    #expect(throws: EncryptionError.self, "sealed for \(sealedFor.text), opened at \(openedAt.text)") {
                        try keys.open(sealed, for: openedAt)
                    }
                }
            }
        }
    }

    @Test("keys that do not parse are refused without echoing them", arguments: [
        ("nokid", "not kid:base64key"),
        ("k:\(Data(repeating: 1, count: 16).base64EncodedString())", "not 32 bytes"),
        ("k:!!!!", "not 32 bytes"),
        ("bad kid:\(Data(repeating: 1, count: 32).base64EncodedString())", "not kid:base64key"),
        ("k/1:\(Data(repeating: 1, count: 32).base64EncodedString())", "1-32 characters"),
        ("k:\(Data(repeating: 1, count: 32).base64EncodedString()),k:\(Data(repeating: 2, count: 32).base64EncodedString())", "listed twice"),
        ("  ", "no encryption key"),
    ])
    func badKeys(text: String, message: String) {
        do {
            _ = try EncryptionKeys(parsing: text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.description.contains(message), "\(error)")
            // No entry's key material, whatever its shape, appears in what an operator is shown.
            for entry in text.split(separator: ",") {
                guard let colon = entry.firstIndex(of: ":") else { continue }
                let material = entry[entry.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                #expect(!material.isEmpty && !error.description.contains(material), "\(error) shows \(material)")
            }
        }
    }

    @Test("a worker with keys stores bodies, dead-lettered jobs and remembered recognitions sealed; they open and requeue")
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
            #expect(try await producer.result(id: "sealed-copy")?.openingBody(with: keys).body?["idNo"] == .string(card["idNo"]!))
            let imageKeys = try await producer.redis.send("KEYS", .string(producer.keys.base + "image:*")).array ?? []
            let imageKey = try #require(imageKeys.first?.data)
            let remembered = try #require(try await producer.redis.send("GET", .data(imageKey)).data)
            #expect(JSONValue.parse(remembered)?.isSealed == true)
            #expect(fake.stats.calls == 2)  // sealed-ok and sealed-fail
            // The dead letter: the job sealed, its id listed; it opens to the job and requeues unchanged.
            let (element, letter) = try #require(try await producer.deadLetters().first)
            #expect(!String(decoding: element, as: UTF8.self).contains("imgData"))
            let sealedLetter = try #require(letter)
            #expect(sealedLetter.isSealed && sealedLetter.id == "sealed-fail" && sealedLetter.error.code == .notRecognized)
            #expect(try sealedLetter.opened(with: keys).job == JSONValue.parse(failing.encoded()))
            #expect(try await producer.requeueDeadLetters(opening: nil) == (0, 1))  // no keys: left in place
            #expect(try await producer.requeueDeadLetters(opening: keys) == (1, 0))
            let requeued = try #require(try await producer.redis.send("LINDEX", .string(producer.keys.pending), "0").data)
            #expect(JSONValue.parse(requeued) == JSONValue.parse(failing.encoded()))
        }
    }
}
