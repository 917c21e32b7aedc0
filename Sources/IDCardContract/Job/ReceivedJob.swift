import Foundation

/// A list element as a worker took it: the raw bytes, and the JSON object when there was one.
///
/// Validation is split from parsing so a job that fails validation still yields what is needed
/// to report the failure: its id (for the result key) and its `replyTo`.
public struct ReceivedJob: Sendable {
    /// The element exactly as it was in the list; releasing or dead-lettering uses these bytes.
    public let element: Data
    /// The element's fields, except a plain `imgData` string, which stays in `element` (``imageText``).
    public let fields: [String: JSONValue]?
    /// `imgData`'s text as a slice of `element`, when it was a plain string (the usual case).
    let imageText: Data?
    /// The registration this job was taken under (set by the take): the steps that end it are
    /// refused once that registration is over.
    public package(set) var holder: WorkerRegistration?

    public init(element: Data) {
        self.element = element
        let parsed = JSONValue.parseObject(element, leavingInPlace: "imgData")
        self.fields = parsed?.fields
        self.imageText = parsed?.text
    }

    package init(element: Data, holder: WorkerRegistration) {
        self.init(element: element)
        self.holder = holder
    }

    /// The id when it is a valid one, so a failed result can be stored under it.
    public var id: String? { Self.validID(fields?["id"]) }

    /// An `id` field's value when it is a valid id; integers count, as the contract accepts them.
    public static func validID(_ value: JSONValue?) -> String? {
        let id: String? =
            switch value {
            case .string(let text)?: text
            case .int(let number)?: String(number)
            default: nil
            }
        return id.flatMap { Job.isValidID($0) ? $0 : nil }
    }

    /// `meta` when it may be copied into a result: an object of at most 4 KiB. A larger one is not
    /// echoed, not even into the failed result that says so.
    public var meta: JSONValue? {
        guard let value = fields?["meta"], case .object = value,
            element.count <= Job.maxMetaBytes || value.encoded().count <= Job.maxMetaBytes
        else { return nil }
        return value
    }

    /// `replyTo` when it names a reply list of the queue whose reply lists start with
    /// `replyPrefix`: a worker pushes onto no other key, so no job can make it grow or expire the
    /// queue's own lists or another system's keys.
    public func replyTo(replyPrefix: String) -> String? {
        guard let key = fields?["replyTo"]?.stringValue, Job.isReplyKey(key, replyPrefix: replyPrefix) else {
            return nil
        }
        return key
    }

    /// Validates every field (docs/contract.md, "Validation") for the queue whose reply lists
    /// start with `replyPrefix`. Image bytes are checked by the intake (``JobIntake``), which calls this.
    public func job(replyPrefix: String) throws(JobError) -> Job {
        guard let fields else {
            throw JobError(
                .invalidJob,
                JSONValue.parse(element) == nil ? "the element is not JSON" : "the element is not a JSON object"
            )
        }
        guard fields["id"] != nil else { throw JobError(.invalidJob, "id is missing") }
        guard let id else { throw JobError(.invalidJob, "id must be 1-128 characters of A-Za-z0-9._:-") }

        let image: Job.Image
        let hasImageData = imageText.map { !$0.isEmpty } ?? (nonEmpty(fields["imgData"]) != nil)
        switch (hasImageData, nonEmpty(fields["imgUrl"])) {
        case (true, .some): throw JobError(.invalidJob, "give imgData or imgUrl, not both")
        case (false, .none): throw JobError(.invalidJob, "imgData or imgUrl is required")
        case (true, .none):
            let base64: Data
            if let imageText {
                base64 = Self.strippedBase64(imageText)
            } else {
                guard case .string(let text)? = fields["imgData"] else {
                    throw JobError(.invalidJob, "imgData must be a base64 string")
                }
                base64 = Self.strippedBase64(Data(text.utf8))
            }
            // Found by fuzzing: "data:image/jpeg;base64," alone passed as an image.
            guard !base64.isEmpty else {
                throw JobError(.invalidJob, "imgData holds no base64, only a data: prefix or white space")
            }
            image = .base64(base64)
        case (false, .some(let url)):
            guard case .string(let text) = url else { throw JobError(.invalidJob, "imgUrl must be a string") }
            image = .url(text)
        }

        let side: Job.Side
        switch fields["type"] {
        case nil, .null: side = .detect
        case .some(let value):
            let text = value.intValue.map(String.init) ?? value.stringValue
            guard let text, let parsed = Job.Side(rawValue: text) else {
                throw JobError(.invalidJob, "type must be \"1\", \"2\" or \"\"")
            }
            side = parsed
        }

        let needQuality: Bool
        switch fields["needQuality"] {
        case nil, .null: needQuality = false
        case .bool(let flag): needQuality = flag
        case .some(let value):
            switch value.intValue ?? (value.stringValue == "" ? 0 : nil) {
            case 0: needQuality = false
            case 1: needQuality = true
            default: throw JobError(.invalidJob, "needQuality must be \"1\" or \"0\"")
            }
        }

        let replyTo = replyTo(replyPrefix: replyPrefix)
        if let value = fields["replyTo"], value != .null, replyTo == nil {
            throw JobError(.invalidJob, Job.replyToRule(replyPrefix: replyPrefix))
        }

        if let value = fields["meta"], value != .null {
            guard case .object = value else { throw JobError(.invalidJob, "meta must be a JSON object") }
            guard meta != nil else { throw JobError(.invalidJob, "meta is larger than 4 KiB") }
        }

        var enqueuedAt: JSONValue?
        if let value = fields["enqueuedAt"], value != .null {
            switch value {
            case .int, .double: enqueuedAt = value
            case .string(let text) where Int64(text) != nil: enqueuedAt = Int64(text).map(JSONValue.int)
            default: throw JobError(.invalidJob, "enqueuedAt must be a number of Unix milliseconds")
            }
        }

        var job = Job(
            id: id,
            image: image,
            side: side,
            needQuality: needQuality,
            replyTo: replyTo,
            meta: meta,
            enqueuedAt: nil
        )
        job.enqueuedAt = enqueuedAt
        return job
    }

    private func nonEmpty(_ value: JSONValue?) -> JSONValue? {
        switch value {
        case nil, .null, .string(""): nil
        default: value
        }
    }

    /// Drops a `data:image/...;base64,` prefix and any white space producers wrapped lines with.
    static func strippedBase64(_ text: Data) -> Data {
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
        // Found by fuzzing: " data:..." kept its prefix, which its own re-encoding then dropped.
        var body = text.drop(while: isSpace)
        if body.starts(with: "data:".utf8), let comma = body.firstIndex(of: UInt8(ascii: ",")) {
            body = body[body.index(after: comma)...]
        }
        // The common case: a slice of the producer's text, shared rather than copied.
        guard body.withUnsafeBytes({ $0.contains(where: isSpace) }) else { return body }
        return Data(body.filter { !isSpace($0) })
    }
}
