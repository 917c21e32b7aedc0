/// The contract's `error.code` values (docs/contract.md, "Error codes"), and this implementation's extensions.
///
/// A struct rather than an enum so that new codes are not a breaking change: producers and
/// dashboards already see codes as strings, and a Swift switch over them keeps a `default`.
/// Codes read back from Redis that this version does not know are kept as they are.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public static let invalidJob = ErrorCode(rawValue: "invalid_job")
    public static let imageTooLarge = ErrorCode(rawValue: "image_too_large")
    public static let imageUnreadable = ErrorCode(rawValue: "image_unreadable")
    public static let urlForbidden = ErrorCode(rawValue: "url_forbidden")
    public static let notRecognized = ErrorCode(rawValue: "not_recognized")
    public static let ocrUnavailable = ErrorCode(rawValue: "ocr_unavailable")
    public static let rateLimited = ErrorCode(rawValue: "rate_limited")
    public static let attemptsExhausted = ErrorCode(rawValue: "attempts_exhausted")
    public static let workerLost = ErrorCode(rawValue: "worker_lost")
    /// *Extension*: the job's id already has a succeeded result for another image. The stored
    /// result stays; the job gets this failure only, never the other image's fields.
    public static let idConflict = ErrorCode(rawValue: "id_conflict")
    /// *Extension*: the API refused this image (HTTP 401/403/404/405) while it accepted others:
    /// a gateway rule against this request, not an account problem.
    public static let rejectedByAPI = ErrorCode(rawValue: "rejected_by_api")

    /// Every code this version writes, the contract's first.
    public static let allCases: [ErrorCode] = [
        .invalidJob, .imageTooLarge, .imageUnreadable, .urlForbidden, .notRecognized, .ocrUnavailable, .rateLimited,
        .attemptsExhausted, .workerLost, .idConflict, .rejectedByAPI,
    ]

    /// Whether trying the same job again later may succeed.
    public var isRetryable: Bool {
        self == .ocrUnavailable || self == .rateLimited
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
