import Crypto
import Foundation

/// The references the dashboard's own links and checkboxes use for a job, instead of its id: a
/// producer may have put an ID number in an id, and a URL ends up in the address bar, the
/// history and the proxy's access log. A reference is the id sealed (AES-GCM) with a key made
/// at start, so it means nothing outside this process and stops working at a restart.
/// References start with `~`, which no job id contains; a page given a plain id still works.
struct JobLinks: Sendable {
    /// The key's bytes (a `SymmetricKey` is made per use: it is not `Sendable`).
    private let keyBytes = (0..<32).map { _ in UInt8.random(in: .min ... .max) }
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    func reference(for id: String) -> String {
        guard let sealed = try? AES.GCM.seal(Data(id.utf8), using: key).combined else { return id }
        return "~"
            + sealed.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The id a path segment or form value names: a reference opened, or a plain id as given;
    /// `nil` for a reference this process did not make.
    func id(from value: String) -> String? {
        guard value.hasPrefix("~") else { return value }
        var base64 = String(value.dropFirst()).replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let box = try? AES.GCM.SealedBox(combined: data),
            let opened = try? AES.GCM.open(box, using: key)
        else { return nil }
        return String(data: opened, encoding: .utf8)
    }
}
