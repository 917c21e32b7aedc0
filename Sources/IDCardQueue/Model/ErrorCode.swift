/// The contract's `error.code` values (contract §5).
public enum ErrorCode: String, Sendable, Codable, CaseIterable {
    case invalidJob = "invalid_job"
    case imageTooLarge = "image_too_large"
    case imageUnreadable = "image_unreadable"
    case urlForbidden = "url_forbidden"
    case notRecognized = "not_recognized"
    case ocrUnavailable = "ocr_unavailable"
    case rateLimited = "rate_limited"
    case attemptsExhausted = "attempts_exhausted"
    case workerLost = "worker_lost"

    /// Whether trying the same job again later may succeed.
    public var isRetryable: Bool {
        self == .ocrUnavailable || self == .rateLimited
    }
}

/// A job's failure as written into results and dead letters: `{"code", "message", "retryable"}`.
public struct JobError: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    public var code: ErrorCode
    /// Says what went wrong and, where it helps, what to do. Never carries personal data.
    public var message: String
    public var retryable: Bool

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
        self.retryable = code.isRetryable
    }

    public var description: String { "\(code.rawValue): \(message)" }

    public var jsonValue: JSONValue {
        .object(["code": .string(code.rawValue), "message": .string(message), "retryable": .bool(retryable)])
    }

    /// Reads `{"code", "message", "retryable"}`; `nil` for an unknown code.
    public init?(_ value: JSONValue) {
        guard let code = value["code"]?.stringValue.flatMap(ErrorCode.init(rawValue:)) else { return nil }
        self.init(code, value["message"]?.stringValue ?? "")
        if case .bool(let retryable)? = value["retryable"] { self.retryable = retryable }
    }
}
