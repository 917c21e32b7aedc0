import Foundation
import IDCardContract
import Testing

@testable import IDCardQueue

/// Sealing and opening values, and parsing keys: no server.
@Suite("Encryption keys")
struct EncryptionKeysTests {
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

        // Moved to another job:
        #expect(throws: EncryptionError.self) { try rotated.open(sealed, for: .resultBody(id: "b")) }
        var altered = sealed
        if case .object(var fields) = altered, case .string(let data)? = fields["data"] {
            var bytes = Data(base64Encoded: data)!
            bytes[bytes.count - 1] ^= 1
            fields["data"] = .string(bytes.base64EncodedString())
            altered = .object(fields)
        }
        #expect(throws: EncryptionError.self) { try rotated.open(altered, for: .resultBody(id: "a")) }
        let newOnly = try EncryptionKeys(parsing: "2026-11:\(Self.key(2))")
        #expect(throws: EncryptionError("sealed with key 2026-10, which is not among the keys given")) {
            try newOnly.open(sealed, for: .resultBody(id: "a"))
        }
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

    @Test(
        "keys that do not parse are refused without echoing them",
        arguments: [
            ("nokid", "not kid:base64key"),
            ("k:\(Data(repeating: 1, count: 16).base64EncodedString())", "not 32 bytes"),
            ("k:!!!!", "not 32 bytes"),
            ("bad kid:\(Data(repeating: 1, count: 32).base64EncodedString())", "not kid:base64key"),
            ("k/1:\(Data(repeating: 1, count: 32).base64EncodedString())", "1-32 characters"),
            (
                "k:\(Self.key(1)),k:\(Self.key(2))",
                "listed twice"
            ),
            ("  ", "no encryption key"),
        ]
    )
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
}
