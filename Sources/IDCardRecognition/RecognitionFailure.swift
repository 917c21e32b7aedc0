import IDCardQueue

/// Why an attempt did not produce a reading, sorted by what the worker must do about it.
public enum RecognitionFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The job's own fault (no card found, bad image): fail it now, never retry.
    case rejected(JobError)
    /// The recognizer could not answer this time (network, timeout, 5xx): retry with backoff.
    case unavailable(String)
    /// The recognizer refused for rate: slow the whole fleet down, then retry.
    case rateLimited(String)
    /// The account or configuration is wrong (quota used up, bad appKey): no job is at fault;
    /// pause the worker and give the job back.
    case accountProblem(String)

    public var description: String {
        switch self {
        case .rejected(let error): error.description
        case .unavailable(let message): "ocr_unavailable: \(message)"
        case .rateLimited(let message): "rate_limited: \(message)"
        case .accountProblem(let message): "account or configuration problem: \(message)"
        }
    }

    /// The contract code a job gets when this failure is final for it.
    public var code: ErrorCode? {
        switch self {
        case .rejected(let error): error.code
        case .unavailable: .ocrUnavailable
        case .rateLimited: .rateLimited
        case .accountProblem: nil
        }
    }

    public var message: String {
        switch self {
        case .rejected(let error): error.message
        case .unavailable(let message), .rateLimited(let message), .accountProblem(let message): message
        }
    }
}
