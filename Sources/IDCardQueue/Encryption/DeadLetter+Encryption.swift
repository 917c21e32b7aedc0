import Foundation
import IDCardContract

extension DeadLetter {
    /// Whether the job or the raw element is sealed.
    public var isSealed: Bool { job?.isSealed == true || sealedRaw != nil }

    /// This dead letter with its job or raw element opened; unchanged when nothing was sealed.
    public func opened(with keys: EncryptionKeys) throws(EncryptionError) -> DeadLetter {
        var letter = self
        if let job, job.isSealed {
            guard let plain = JSONValue.parse(try keys.open(job, for: .deadLetterJob(id: listedID))) else {
                throw EncryptionError("the opened job of a dead letter is not JSON")
            }
            letter.job = plain
        }
        if let sealedRaw {
            letter.rawElement = try keys.open(sealedRaw, for: .deadLetterRaw)
            letter.sealedRaw = nil
        }
        return letter
    }

    /// The letter as the contract writes it (with `id` when it was listed), for printing opened letters.
    public var jsonValue: JSONValue {
        var fields: [String: JSONValue] = [
            "job": job ?? .null, "error": error.jsonValue, "attempts": .int(Int64(attempts)),
            "failedAt": .string(failedAt), "worker": .string(worker),
        ]
        if let sealedRaw {
            fields["raw"] = sealedRaw
        } else if let rawElement {
            fields[raw == nil ? "rawBase64" : "raw"] = .string(raw ?? rawElement.base64EncodedString())
        }
        fields["oversized"] = oversized.map { .object(["field": .string($0.field), "bytes": .int(Int64($0.bytes))]) }
        fields["id"] = listedID.map(JSONValue.string)
        return .object(fields)
    }
}
