import Foundation
import IDCardContract

extension JobResult {
    /// This result with its `body` (the personal data) sealed; everything else stays readable, so
    /// status, errors and checks still serve dashboards and `stats`.
    public func sealingBody(with keys: EncryptionKeys) throws(EncryptionError) -> JobResult {
        guard let body, !body.isSealed else { return self }
        var sealed = self
        sealed.body = try keys.seal(body.encoded(), for: .resultBody(id: id))
        return sealed
    }

    /// This result with its `body` opened; unchanged when it was not sealed.
    public func openingBody(with keys: EncryptionKeys) throws(EncryptionError) -> JobResult {
        guard let body, body.isSealed else { return self }
        var opened = self
        guard let plain = JSONValue.parse(try keys.open(body, for: .resultBody(id: id))) else {
            throw EncryptionError("the opened body of \(id) is not JSON")
        }
        opened.body = plain
        return opened
    }

    /// Whether the stored body is sealed.
    public var hasSealedBody: Bool { body?.isSealed == true }
}
