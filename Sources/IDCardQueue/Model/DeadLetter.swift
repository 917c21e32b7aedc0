import Foundation

/// One element of `P:{Q}:dead` (contract §4).
public struct DeadLetter: Sendable, Equatable {
    /// The job as received, when it was a JSON object.
    public var job: JSONValue?
    /// The element as received, when it was not a JSON object.
    public var raw: String?
    /// `raw` sealed (with encryption at rest).
    public var sealedRaw: JSONValue?
    public var error: JobError
    public var attempts: Int
    public var failedAt: String
    public var worker: String
    /// *Extension*: the job's id beside a sealed job, which hides its own.
    public var listedID: String?

    /// The job's id, when it had a valid one.
    public var id: String? { ReceivedJob.validID(job?["id"]) ?? listedID }

    /// A dead letter as the finish script writes it: `head`, the job's element, then `tail`. The
    /// script splices the element in, since it has it anyway (for `LREM`): a large job is neither
    /// copied into a second buffer here nor sent to Redis twice.
    public struct Encoding: Sendable {
        /// How the element goes between head and tail.
        public enum Embedding: String, Sendable {
            /// Already in `head` (a raw element that is not plain ASCII, escaped here).
            case none = ""
            /// As it is: a JSON object, the `job` field.
            case verbatim = "job"
            /// As a JSON string, by the script's `cjson.encode`: the `raw` field of a plain-ASCII element.
            case string = "raw"
        }

        public var head: Data
        public var embedding: Embedding
        public var tail: Data

        public init(head: Data, embedding: Embedding = .none, tail: Data = Data()) {
            self.head = head
            self.embedding = embedding
            self.tail = tail
        }
    }

    /// Builds the element for a job that failed for good. A JSON job is embedded byte for byte,
    /// so `dlq requeue` puts back exactly what the producer sent. With `keys`, the job (or the
    /// raw element) is sealed and its id listed beside it.
    public static func encode(
        _ job: ReceivedJob, error: JobError, attempts: Int, worker: String, failedAt: String = Timestamp.iso8601(), keys: EncryptionKeys? = nil
    ) throws(EncryptionError) -> Encoding {
        var head = Data("{".utf8)
        let embedding: Encoding.Embedding
        if let keys {
            if let id = job.id {
                head.append(contentsOf: "\"id\":".utf8)
                head.append(JSONValue.string(id).encoded())
                head.append(contentsOf: ",".utf8)
            }
            if job.fields != nil {
                head.append(contentsOf: "\"job\":".utf8)
                head.append(try keys.seal(job.element, for: .deadLetterJob(id: job.id)).encoded())
            } else {
                head.append(contentsOf: "\"job\":null,\"raw\":".utf8)
                head.append(try keys.seal(job.element, for: .deadLetterRaw).encoded())
            }
            embedding = .none
        } else if job.fields != nil {
            head.append(contentsOf: "\"job\":".utf8)
            embedding = .verbatim
        } else {
            head.append(contentsOf: "\"job\":null,\"raw\":".utf8)
            // Other bytes go through Swift's decoder, which replaces invalid UTF-8 (cjson would pass it on).
            if job.element.withUnsafeBytes({ $0.allSatisfy { $0 < 0x80 } }) {
                embedding = .string
            } else {
                head.append(JSONValue.string(String(decoding: job.element, as: UTF8.self)).encoded())
                embedding = .none
            }
        }
        var tail = Data(",\"error\":".utf8)
        tail.append(error.jsonValue.encoded())
        tail.append(contentsOf: ",\"attempts\":\(attempts),\"failedAt\":".utf8)
        tail.append(JSONValue.string(failedAt).encoded())
        tail.append(contentsOf: ",\"worker\":".utf8)
        tail.append(JSONValue.string(worker).encoded())
        tail.append(contentsOf: "}".utf8)
        return Encoding(head: head, embedding: embedding, tail: tail)
    }

    /// Reads an element back; `nil` when it is not a dead letter.
    public init?(element: Data) {
        guard let fields = JSONValue.parse(element)?.objectValue,
            let error = fields["error"].flatMap(JobError.init)
        else { return nil }
        job = fields["job"].flatMap { $0 == .null ? nil : $0 }
        raw = fields["raw"]?.stringValue
        sealedRaw = EncryptionKeys.isSealed(fields["raw"]) ? fields["raw"] : nil
        self.error = error
        attempts = fields["attempts"]?.intValue.map { Int($0) } ?? 0
        failedAt = fields["failedAt"]?.stringValue ?? ""
        worker = fields["worker"]?.stringValue ?? ""
        listedID = fields["id"]?.stringValue
    }

    /// What `requeue` pushes back onto `pending`: the job, or the raw element.
    public var requeueElement: Data {
        if let job { return job.encoded() }
        return Data((raw ?? "").utf8)
    }
}
