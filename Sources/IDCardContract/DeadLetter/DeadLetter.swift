import Foundation

/// One element of `P:{Q}:dead` (docs/contract.md, "Dead letter").
public struct DeadLetter: Sendable, Equatable {
    /// The job as received, when it was a JSON object.
    public var job: JSONValue?
    /// The element as received, byte for byte, when it was not a JSON object: written as `raw`
    /// (a JSON string) when it is text, as *extension* `rawBase64` when escaping it as a string
    /// would more than double it (control bytes) or lose bytes (invalid UTF-8).
    public var rawElement: Data?
    /// `raw` sealed (with encryption at rest).
    public var sealedRaw: JSONValue?
    /// *Extension*: the element was too large for any job that can succeed and was refused at the
    /// take; it is kept whole in `P:{Q}:oversized`, under this field, for `dlq requeue`.
    public var oversized: Oversized?
    public var error: JobError
    public var attempts: Int
    public var failedAt: String
    public var worker: String
    /// *Extension*: the job's id beside a sealed job, which hides its own.
    public var listedID: String?

    /// Where a refused oversized element is kept.
    public struct Oversized: Sendable, Equatable {
        /// Its field in `P:{Q}:oversized`.
        public var field: String
        public var bytes: Int
    }

    /// The element as text, when it was not a JSON object and is valid UTF-8.
    public var raw: String? { rawElement.flatMap { String(validating: $0, as: UTF8.self) } }

    /// The job's id, when it had a valid one.
    public var id: String? { ReceivedJob.validID(job?["id"]) ?? listedID }

    /// Reads an element back; `nil` when it is not a dead letter.
    public init?(element: Data) {
        guard let fields = JSONValue.parse(element)?.objectValue,
            let error = fields["error"].flatMap(JobError.init)
        else { return nil }
        job = fields["job"].flatMap { $0 == .null ? nil : $0 }
        if let text = fields["raw"]?.stringValue {
            rawElement = Data(text.utf8)
        } else if let base64 = fields["rawBase64"]?.stringValue {
            rawElement = Data(base64Encoded: base64)
        }
        sealedRaw = fields["raw"]?.isSealed == true ? fields["raw"] : nil
        if let value = fields["oversized"], let field = value["field"]?.stringValue,
            let bytes = value["bytes"]?.intValue
        {
            oversized = Oversized(field: field, bytes: Int(bytes))
        }
        self.error = error
        attempts = fields["attempts"]?.intValue.map { Int($0) } ?? 0
        failedAt = fields["failedAt"]?.stringValue ?? ""
        worker = fields["worker"]?.stringValue ?? ""
        listedID = fields["id"]?.stringValue
    }

    /// What `requeue` pushes back onto `pending`: the job, or the raw element; `nil` for an
    /// oversized element, which the requeue script takes from where it is kept.
    public var requeueElement: Data? {
        if let job { return job.encoded() }
        return rawElement
    }
}
