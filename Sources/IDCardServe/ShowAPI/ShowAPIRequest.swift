import Crypto
import Foundation
import IDCardContract

/// A `POST /1429-1` request made a job: the form's `imgData`, `imgUrl`, `type` and
/// `needQuality`, checked by the contract's own job rules (``ReceivedJob``), so `serve` accepts
/// exactly what a job on the queue may say.
public struct ShowAPIRequest: Sendable {
    public let job: Job

    /// - Parameters:
    ///   - client: the key's client; its name goes into the job id, so clients never share results.
    ///   - replyTo: the `serve` process's reply list.
    /// - Throws: ``JobError`` (`invalid_job`) for a form no job could be made of.
    public init(form: FormFields, client: String, replyTo: String, replyPrefix: String) throws(JobError) {
        var fields: [String: JSONValue] = ["id": .string("pending")]
        if var data = form["imgData"], !data.isEmpty {
            // A client that sent base64 without escaping it (curl -d imgData=…) had each `+` read
            // as a space; base64 has no spaces, so every one was a `+`.
            for index in data.indices where data[index] == UInt8(ascii: " ") { data[index] = UInt8(ascii: "+") }
            fields["imgData"] = .string(String(decoding: data, as: UTF8.self))
        }
        for name in ["imgUrl", "type", "needQuality"] {
            if let text = form.text(name), !text.isEmpty { fields[name] = .string(text) }
        }
        var job = try ReceivedJob(element: JSONValue.object(fields).encoded()).job(replyPrefix: replyPrefix)
        job.id = Self.jobID(client: client, image: job.image, side: job.side, needQuality: job.needQuality)
        job.replyTo = replyTo
        job.meta = .object(["via": .string("1429-1"), "client": .string(client)])
        job.enqueuedAt = .int(Timestamp.nowMilliseconds())
        self.job = job
    }

    /// The same question from the same client is the same job: `showapi.<client>.<40 hex>`, from
    /// a SHA-256 of the image (its base64 text, or its URL), the side and `needQuality`. A client
    /// asking again (after a timeout, or while the first is running) finds the first job's result
    /// and is not charged again; the worker answers a second copy without a second paid call.
    public static func jobID(client: String, image: Job.Image, side: Job.Side, needQuality: Bool) -> String {
        var hash = SHA256()
        hash.update(data: Data("\(side.rawValue)|\(needQuality ? 1 : 0)|".utf8))
        switch image {
        case .base64(let text):
            hash.update(data: Data("data|".utf8))
            hash.update(data: text)
        case .url(let url):
            hash.update(data: Data("url|".utf8))
            hash.update(data: Data(url.utf8))
        }
        return "showapi.\(client).\(hash.finalize().prefix(20).lowercaseHex)"
    }
}
