import Crypto
import Foundation
import IDCardContract

/// AES-256-GCM keys for personal data at rest: result bodies, dead-lettered jobs and remembered
/// recognitions. The first key seals; every key opens what names it, so a key rotates by putting
/// the new one first and keeping the old one until nothing it sealed remains (results expire after
/// `IDOCR_RESULT_TTL`; dead letters stay until requeued or purged).
///
/// A sealed value replaces the plain one in place, as an envelope any AES-GCM library opens:
///
///     {"idocr_encrypted":1,"alg":"A256GCM","kid":"2026-11","data":"<base64 of nonce(12) ‖ ciphertext ‖ tag(16)>"}
///
/// The associated data is the value's place (``Context``), so a sealed body cannot be moved to
/// another job's result and still open.
public struct EncryptionKeys: Sendable {
    public struct Key: Sendable {
        public let id: String
        /// The 32 bytes; a `SymmetricKey` is made per use (it is not `Sendable`).
        let bytes: Data
        var key: SymmetricKey { SymmetricKey(data: bytes) }
    }

    /// The sealing key first.
    public let keys: [Key]

    /// Where a sealed value sits; its text is the associated data.
    public enum Context: Sendable {
        case resultBody(id: String)
        case deadLetterJob(id: String?)
        case deadLetterRaw
        case rememberedRecognition(key: String)

        public var text: String {
            switch self {
            case .resultBody(let id): "result.body:" + id
            case .deadLetterJob(let id): "dead.job:" + (id ?? "")
            case .deadLetterRaw: "dead.raw:"
            case .rememberedRecognition(let key): "image:" + key
            }
        }
    }

    /// Parses `kid:base64key` entries separated by commas, spaces or new lines: the form of
    /// `IDOCR_ENCRYPTION_KEYS` and of the file `IDOCR_ENCRYPTION_KEYS_FILE` names.
    /// A key is 32 random bytes (`openssl rand -base64 32`); a kid is 1–32 of `A-Za-z0-9._-`.
    public init(parsing text: String) throws(EncryptionError) {
        var keys: [Key] = []
        let entries = text.split(whereSeparator: { $0 == "," || $0.isWhitespace })
        for entry in entries {
            guard let colon = entry.firstIndex(of: ":") else {
                throw EncryptionError("an encryption key entry is not kid:base64key (the entry's key is not shown)")
            }
            let id = String(entry[..<colon])
            guard (1...32).contains(id.count),
                id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
            else {
                throw EncryptionError("an encryption key id must be 1-32 characters of A-Za-z0-9._-")
            }
            guard let bytes = Data(base64Encoded: Data(entry[entry.index(after: colon)...].utf8)), bytes.count == 32
            else {
                throw EncryptionError(
                    "encryption key \(id) is not 32 bytes of base64 (make one with: openssl rand -base64 32)"
                )
            }
            guard !keys.contains(where: { $0.id == id }) else {
                throw EncryptionError("encryption key id \(id) is listed twice")
            }
            keys.append(Key(id: id, bytes: bytes))
        }
        guard !keys.isEmpty else { throw EncryptionError("no encryption key given") }
        self.keys = keys
    }

    /// The id of the key new values are sealed with.
    public var sealingKeyID: String { keys[0].id }

    /// `plaintext` sealed with the first key, as an envelope.
    public func seal(_ plaintext: Data, for context: Context) throws(EncryptionError) -> JSONValue {
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.seal(plaintext, using: keys[0].key, authenticating: Data(context.text.utf8))
        } catch {
            throw EncryptionError("sealing failed: \(error)")
        }
        guard let combined = box.combined else { throw EncryptionError("sealing gave no combined box") }
        return .object([
            JSONValue.sealedMarker: .int(1), "alg": .string("A256GCM"), "kid": .string(keys[0].id),
            "data": .string(combined.base64EncodedString()),
        ])
    }

    /// The plaintext of an envelope sealed for `context` with any of these keys.
    public func open(_ envelope: JSONValue, for context: Context) throws(EncryptionError) -> Data {
        guard envelope.isSealed, let kid = envelope["kid"]?.stringValue, let text = envelope["data"]?.stringValue,
            let combined = Data(base64Encoded: text)
        else { throw EncryptionError("not a sealed value") }
        guard let key = keys.first(where: { $0.id == kid }) else {
            throw EncryptionError("sealed with key \(kid), which is not among the keys given")
        }
        do {
            return try AES.GCM.open(
                AES.GCM.SealedBox(combined: combined),
                using: key.key,
                authenticating: Data(context.text.utf8)
            )
        } catch {
            throw EncryptionError("cannot open a value sealed with key \(kid): altered, or sealed for another place")
        }
    }

}

/// Keys that do not parse, or a sealed value that does not open. Never carries a key or a plaintext.
public struct EncryptionError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
