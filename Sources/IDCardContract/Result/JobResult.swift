import Foundation

/// The outcome of one job, stored at `P:{Q}:result:<id>` and pushed to `replyTo` (docs/contract.md, "Result").
public struct JobResult: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        case succeeded
        case failed
    }

    public var id: String
    public var status: Status
    /// Which recognizer answered; absent when the job failed before any recognizer saw it.
    public var provider: String?
    public var attempts: Int
    public var enqueuedAt: JSONValue?
    public var finishedAt: String
    public var durationMs: Int
    /// The fields read, in the shape of the 1429-1 API's `showapi_res_body`.
    public var body: JSONValue?
    public var checks: ResultChecks?
    /// Fields that were not read but derived (from the ID number); an extension of the contract.
    public var derived: [String]?
    /// *Extension*: what the image itself says against trusting it, in ``JobResult/warningOrder``
    /// (docs/contract.md, "Warnings"), on a success or a `not_recognized` failure; absent when
    /// nothing was measured.
    public var warnings: [String]?
    public var error: JobError?
    public var meta: JSONValue?
    /// *Extension*, on a success: which image it is the reading of (`sha256:<hex>` of the image
    /// bytes, or `url-sha256:<hex>` of an imgUrl), so a later job reusing the id with another image
    /// is refused (`id_conflict`) rather than handed this one's fields.
    public var imageDigest: String?

    public init(
        id: String,
        status: Status,
        provider: String? = nil,
        attempts: Int,
        enqueuedAt: JSONValue? = nil,
        finishedAt: String = Timestamp.iso8601(),
        durationMs: Int,
        body: JSONValue? = nil,
        checks: ResultChecks? = nil,
        derived: [String]? = nil,
        warnings: [String]? = nil,
        error: JobError? = nil,
        meta: JSONValue? = nil,
        imageDigest: String? = nil
    ) {
        self.id = id
        self.status = status
        self.provider = provider
        self.attempts = attempts
        self.enqueuedAt = enqueuedAt
        self.finishedAt = finishedAt
        self.durationMs = durationMs
        self.body = body
        self.checks = checks
        self.derived = derived
        self.warnings = warnings
        self.error = error
        self.meta = meta
        self.imageDigest = imageDigest
    }

    enum CodingKeys: String, CodingKey {
        case id, status, provider, attempts, enqueuedAt, finishedAt, durationMs, body, checks, derived, warnings, error,
            meta, imageDigest
    }

    /// The result as the contract writes it: absent fields left out, `error` null on success.
    public var jsonValue: JSONValue {
        var fields: [String: JSONValue] = [
            "id": .string(id), "status": .string(status.rawValue), "attempts": .int(Int64(attempts)),
            "finishedAt": .string(finishedAt), "durationMs": .int(Int64(durationMs)),
            "error": error?.jsonValue ?? .null,
        ]
        fields["provider"] = provider.map(JSONValue.string)
        fields["enqueuedAt"] = enqueuedAt
        fields["body"] = body
        fields["checks"] = checks.map(\.jsonValue)
        fields["derived"] = derived.map { .array($0.map(JSONValue.string)) }
        fields["warnings"] = warnings.map { .array($0.map(JSONValue.string)) }
        fields["meta"] = meta
        fields["imageDigest"] = imageDigest.map(JSONValue.string)
        return .object(fields)
    }

    public func encode(to encoder: any Encoder) throws {
        try jsonValue.encode(to: encoder)
    }

    public func encoded() -> Data { jsonValue.encoded() }

    public static func decode(_ data: Data) throws -> JobResult {
        try JSONDecoder().decode(JobResult.self, from: data)
    }

    /// The warnings a result may carry, in the order it lists them: `blurred` (the lines' strokes
    /// are soft), `glare` (a saturated reflection over the text), `border_incomplete` (the card
    /// runs out of the picture), `copy` (grey pixels, or a single-channel file), `reversed_side`
    /// (the job asked for one side, the image shows the other).
    public static let warningOrder = ["blurred", "glare", "border_incomplete", "copy", "reversed_side"]
}

/// Consistency checks on what was read (docs/contract.md, "Checks"). A check that could not be made is absent.
public struct ResultChecks: Sendable, Equatable, Codable {
    public var idNoChecksum: Bool?
    public var birthdayMatchesIdNo: Bool?
    public var sexMatchesIdNo: Bool?
    public var validityPeriodPlausible: Bool?

    public init(
        idNoChecksum: Bool? = nil,
        birthdayMatchesIdNo: Bool? = nil,
        sexMatchesIdNo: Bool? = nil,
        validityPeriodPlausible: Bool? = nil
    ) {
        self.idNoChecksum = idNoChecksum
        self.birthdayMatchesIdNo = birthdayMatchesIdNo
        self.sexMatchesIdNo = sexMatchesIdNo
        self.validityPeriodPlausible = validityPeriodPlausible
    }

    public var jsonValue: JSONValue {
        var fields: [String: JSONValue] = [:]
        fields["idNoChecksum"] = idNoChecksum.map(JSONValue.bool)
        fields["birthdayMatchesIdNo"] = birthdayMatchesIdNo.map(JSONValue.bool)
        fields["sexMatchesIdNo"] = sexMatchesIdNo.map(JSONValue.bool)
        fields["validityPeriodPlausible"] = validityPeriodPlausible.map(JSONValue.bool)
        return .object(fields)
    }
}
