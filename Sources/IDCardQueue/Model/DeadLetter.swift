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

    /// A dead letter as the finish script writes it: `head`, the job's element, then `tail`. The
    /// script splices the element in, since it has it anyway (for `LREM`): a large job is neither
    /// copied into a second buffer here nor sent to Redis twice.
    public struct Encoding: Sendable {
        /// How the element goes between head and tail.
        public enum Embedding: String, Sendable {
            /// Already in `head` (sealed, base64, or text that is not plain ASCII, escaped here).
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
    /// so `dlq requeue` puts back exactly what the producer sent. Any other element is kept
    /// losslessly and at most about twice its size (see ``rawElement``). With `keys`, the job
    /// (or the raw element) is sealed and its id listed beside it.
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
            switch RawForm(job.element) {
            case .asciiText:
                head.append(contentsOf: "\"job\":null,\"raw\":".utf8)
                embedding = .string
            case .text(let text):
                head.append(contentsOf: "\"job\":null,\"raw\":".utf8)
                head.append(JSONValue.string(text).encoded())
                embedding = .none
            case .bytes:
                head.append(contentsOf: "\"job\":null,\"rawBase64\":\"".utf8)
                head.append(job.element.base64EncodedData())
                head.append(contentsOf: "\"".utf8)
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

    /// How an element that is not a JSON object goes into its dead letter.
    enum RawForm {
        /// Plain ASCII that escapes to at most twice its size: the script's `cjson.encode` writes it.
        case asciiText
        /// Other valid UTF-8 that escapes to at most twice its size: escaped here.
        case text(String)
        /// Bytes that are not UTF-8, or that escaping would blow up (`\u0001` is six bytes for one):
        /// base64, a third larger, whatever they are.
        case bytes

        init(_ element: Data) {
            var escaped = 0
            var isASCII = true
            for byte in element {
                switch byte {
                // cjson escapes '/' too; the control characters other than these five take six bytes.
                case 0x22, 0x5C, 0x2F, 0x08, 0x09, 0x0A, 0x0C, 0x0D: escaped += 2
                case 0..<0x20, 0x7F: escaped += 6
                case 0x80...: escaped += 1; isASCII = false
                default: escaped += 1
                }
            }
            guard escaped <= 2 * element.count else {
                self = .bytes
                return
            }
            if isASCII {
                self = .asciiText
            } else if let text = String(validating: element, as: UTF8.self) {
                self = .text(text)
            } else {
                self = .bytes
            }
        }
    }

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
        sealedRaw = EncryptionKeys.isSealed(fields["raw"]) ? fields["raw"] : nil
        if let value = fields["oversized"], let field = value["field"]?.stringValue, let bytes = value["bytes"]?.intValue {
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
