import Foundation

/// One recognition job as the contract defines it (docs/contract.md, "Job").
public struct Job: Sendable, Equatable {
    /// Where the image comes from.
    public enum Image: Sendable, Equatable {
        /// Base64 text (its ASCII bytes), already stripped of a `data:` prefix and of line breaks.
        /// Bytes rather than a `String`: in a worker this is a slice of the list element, so a job
        /// holds its image once.
        case base64(Data)
        case url(String)

        /// The image `bytes`, base64-encoded: how producers build a job.
        public static func base64(encoding bytes: Data) -> Image { .base64(bytes.base64EncodedData()) }
    }

    /// Which side of the card the image shows.
    public enum Side: String, Sendable, Codable {
        case portrait = "1"
        case emblem = "2"
        case detect = ""

        /// For messages: `portrait`, `emblem`, or `either`.
        public var name: String {
            switch self {
            case .portrait: "portrait"
            case .emblem: "emblem"
            case .detect: "either"
            }
        }
    }

    public var id: String
    public var image: Image
    public var side: Side
    public var needQuality: Bool
    /// A list the worker `LPUSH`es the result onto when the job ends: `P:{Q}:reply:<name>`, a key
    /// of the queue's own namespace (``isReplyKey(_:replyPrefix:)``).
    public var replyTo: String?
    /// Opaque producer data, copied into the result.
    public var meta: JSONValue?
    /// Unix milliseconds, echoed into the result as received.
    public var enqueuedAt: JSONValue?

    public init(
        id: String,
        image: Image,
        side: Side = .detect,
        needQuality: Bool = false,
        replyTo: String? = nil,
        meta: JSONValue? = nil,
        enqueuedAt: Int64? = Timestamp.nowMilliseconds()
    ) {
        self.id = id
        self.image = image
        self.side = side
        self.needQuality = needQuality
        self.replyTo = replyTo
        self.meta = meta
        self.enqueuedAt = enqueuedAt.map { .int($0) }
    }

    /// Limits the contract sets on producers' fields.
    public static let maxIDLength = 128
    public static let maxMetaBytes = 4096

    /// What `invalid_job` says of a `replyTo` outside the queue's namespace.
    public static func replyToRule(replyPrefix: String) -> String {
        "replyTo must be a list of this queue, \(replyPrefix)<name> with a name of 1-128 characters of A-Za-z0-9._:-"
    }

    /// True when `key` is a `replyTo` list of the queue whose reply lists start with
    /// `replyPrefix` (`P:{Q}:reply:`) and has a valid name: a worker pushes onto no other key.
    public static func isReplyKey(_ key: String, replyPrefix: String) -> Bool {
        key.hasPrefix(replyPrefix) && isValidID(String(key.dropFirst(replyPrefix.count)))
    }

    /// True for 1–128 characters of `A-Za-z0-9._:-`.
    public static func isValidID(_ id: String) -> Bool {
        let bytes = id.utf8
        return (1...maxIDLength).contains(bytes.count)
            && bytes.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
                    true
                default: false
                }
            }
    }

    /// `enqueuedAt` as Unix milliseconds, when the producer gave a number that can be one: from
    /// 1970 to the year 9999. Any number is accepted and echoed, but one outside that range
    /// (`-1.8e308`, `4e33`, a count of seconds is inside) measures nothing, and converting it
    /// would trap.
    public var enqueuedAtMilliseconds: Int64? {
        let milliseconds: Int64? =
            switch enqueuedAt {
            case .int(let value): value
            case .double(let value) where value.isFinite && abs(value) < 1e15: Int64(value)
            default: nil
            }
        return milliseconds.flatMap { (0...Self.latestTimestamp).contains($0) ? $0 : nil }
    }

    /// 9999-12-31T23:59:59.999Z in Unix milliseconds: the latest `enqueuedAt` that is a time.
    public static let latestTimestamp: Int64 = 253_402_300_799_999

    /// The job as one list element, the way producers write it.
    public func encoded() -> Data {
        var fields: [String: JSONValue] = ["id": .string(id), "type": .string(side.rawValue)]
        switch image {
        case .base64(let text): fields["imgData"] = .string(String(decoding: text, as: UTF8.self))
        case .url(let url): fields["imgUrl"] = .string(url)
        }
        if needQuality { fields["needQuality"] = .string("1") }
        if let replyTo { fields["replyTo"] = .string(replyTo) }
        if let meta { fields["meta"] = meta }
        if let enqueuedAt { fields["enqueuedAt"] = enqueuedAt }
        return JSONValue.object(fields).encoded()
    }
}
