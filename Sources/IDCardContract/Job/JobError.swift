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

    /// Reads `{"code", "message", "retryable"}`; `nil` without a code. A code this version does
    /// not know is kept: a newer worker may have written it.
    public init?(_ value: JSONValue) {
        guard let code = value["code"]?.stringValue, !code.isEmpty else { return nil }
        self.init(ErrorCode(rawValue: code), value["message"]?.stringValue ?? "")
        if case .bool(let retryable)? = value["retryable"] { self.retryable = retryable }
    }
}
