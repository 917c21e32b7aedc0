import Foundation

/// One element of `P:{Q}:dead` (contract §4).
public struct DeadLetter: Sendable, Equatable {
    /// The job as received, when it was a JSON object.
    public var job: JSONValue?
    /// The element as received, when it was not a JSON object.
    public var raw: String?
    public var error: JobError
    public var attempts: Int
    public var failedAt: String
    public var worker: String

    /// The job's id, when it had a valid one.
    public var id: String? { ReceivedJob.validID(job?["id"]) }

    /// Builds the element for a job that failed for good. A JSON job is embedded byte for byte,
    /// so `dlq requeue` puts back exactly what the producer sent.
    public static func encode(_ job: ReceivedJob, error: JobError, attempts: Int, worker: String, failedAt: String = Timestamp.iso8601()) -> Data {
        var out = Data("{".utf8)
        if job.fields != nil {
            out.append(contentsOf: "\"job\":".utf8)
            out.append(job.element)
        } else {
            out.append(contentsOf: "\"job\":null,\"raw\":".utf8)
            out.append(JSONValue.string(String(decoding: job.element, as: UTF8.self)).encoded())
        }
        out.append(contentsOf: ",\"error\":".utf8)
        out.append(error.jsonValue.encoded())
        out.append(contentsOf: ",\"attempts\":\(attempts),\"failedAt\":".utf8)
        out.append(JSONValue.string(failedAt).encoded())
        out.append(contentsOf: ",\"worker\":".utf8)
        out.append(JSONValue.string(worker).encoded())
        out.append(contentsOf: "}".utf8)
        return out
    }

    /// Reads an element back; `nil` when it is not a dead letter.
    public init?(element: Data) {
        guard let fields = JSONValue.parse(element)?.objectValue,
            let error = fields["error"].flatMap(JobError.init)
        else { return nil }
        job = fields["job"].flatMap { $0 == .null ? nil : $0 }
        raw = fields["raw"]?.stringValue
        self.error = error
        attempts = fields["attempts"]?.intValue.map { Int($0) } ?? 0
        failedAt = fields["failedAt"]?.stringValue ?? ""
        worker = fields["worker"]?.stringValue ?? ""
    }

    /// What `requeue` pushes back onto `pending`: the job, or the raw element.
    public var requeueElement: Data {
        if let job { return job.encoded() }
        return Data((raw ?? "").utf8)
    }
}
