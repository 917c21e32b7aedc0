import Foundation
import IDCardContract

/// How a worker writes a dead letter: the queue knows the finish script that splices the
/// element in, and the keys that seal it.
extension DeadLetter {
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
        _ job: ReceivedJob,
        error: JobError,
        attempts: Int,
        worker: String,
        failedAt: String = Timestamp.iso8601(),
        keys: EncryptionKeys? = nil
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
                case 0x80...:
                    escaped += 1
                    isASCII = false
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
}
