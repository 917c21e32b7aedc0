import IDCardContract

/// Why an attempt did not produce a reading, sorted by what the worker must do about it.
///
/// An enum, unlike the other errors here: it is the vocabulary between a recognizer and the
/// worker, and a new case is a new decision every consumer must make (the worker's
/// `FailureDecision` switches over it exhaustively), so it should break their `switch`. A
/// recognizer of your own throws these.
public enum RecognitionFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The job's own fault (no card found, bad image): fail it now, never retry. `warnings`: what
    /// the image said (``Recognition/warnings``), which often is why (a card too blurred to read).
    case rejected(JobError, warnings: [String]? = nil)
    /// The recognizer could not answer this time (network, timeout, 5xx): retry with backoff.
    case unavailable(String)
    /// The request went out whole and no answer came (a timeout, a connection lost mid-answer):
    /// the server may have done, and billed, the work. Retried with backoff like ``unavailable(_:)``
    /// through a new rate slot, and counted: such a retry may pay twice.
    case unanswered(String)
    /// The recognizer refused for rate: slow the whole fleet down, then retry.
    case rateLimited(String)
    /// The recognizer is full and said so before doing any work (HTTP 503 with `Retry-After`, as
    /// idcard-ocr's recognition server answers past its queue): retry no sooner than `retryAfter`,
    /// and this process takes no new job until then (the backlog waits in Redis, where the
    /// autoscaler sees it). An attempt like ``unavailable(_:)``.
    case busy(String, retryAfter: Duration)
    /// The account or configuration is wrong (quota used up, bad appKey): no job is at fault;
    /// pause the worker and give the job back.
    case accountProblem(String)
    /// The server refused this request with an HTTP status that says "not you" (401, 403, 404,
    /// 405, ...): the account or configuration, when every request gets it; a gateway rule against
    /// this one image, when others pass. The worker pauses as for ``accountProblem(_:)`` and keeps
    /// the job aside; once a different job passes, this one ends as `rejected_by_api`.
    case refused(String)

    public var description: String {
        switch self {
        case .rejected(let error, _): error.description
        case .unavailable(let message): "ocr_unavailable: \(message)"
        case .unanswered(let message): "ocr_unavailable: \(message) (sent, unanswered)"
        case .rateLimited(let message): "rate_limited: \(message)"
        case .busy(let message, let retryAfter): "ocr_unavailable: \(message) (busy; retry after \(retryAfter))"
        case .accountProblem(let message): "account or configuration problem: \(message)"
        case .refused(let message): "refused: \(message)"
        }
    }

    /// The warnings a rejection carries; nil for the other failures.
    public var warnings: [String]? {
        if case .rejected(_, let warnings) = self { return warnings }
        return nil
    }

    /// The contract code a job gets when this failure is final for it.
    public var code: ErrorCode? {
        switch self {
        case .rejected(let error, _): error.code
        case .unavailable, .unanswered, .busy: .ocrUnavailable
        case .rateLimited: .rateLimited
        case .refused: .rejectedByAPI
        case .accountProblem: nil
        }
    }

    public var message: String {
        switch self {
        case .rejected(let error, _): error.message
        case .unavailable(let message), .unanswered(let message), .rateLimited(let message),
            .busy(let message, _), .accountProblem(let message),
            .refused(let message):
            message
        }
    }
}
