import IDCardContract
import IDCardRecognition

/// What a job does after a call that produced no reading: a pure function of the failure, the
/// attempt and the rules, so that every branch is tested without a server.
///
/// The side effects of the answer itself (a pause ending, the fleet cooling down after a rate
/// refusal, the counters) belong to the worker, not to this decision.
enum FailureDecision: Sendable, Equatable {
    case failForGood(JobError)
    case retry(after: Duration)
    /// The account or configuration is refused: no job is at fault.
    case pause(reason: String)
    /// Refused in a way that may be the job's or the account's: keep it aside and find out.
    case setAside(reason: String)

    /// The rules a worker decides by, from its configuration.
    struct Rules: Sendable {
        /// Attempts a job gets in all, the first included (`IDOCR_MAX_ATTEMPTS`).
        var maxAttempts: Int
        /// The backoff between attempts (`IDOCR_RETRY_BASE`, `IDOCR_RETRY_CAP`).
        var backoff: RetryPolicy
        /// The least wait after a rate refusal (`IDOCR_RATE_COOLDOWN`): the fleet cools down as long.
        var rateCoolDown: Duration
    }

    /// - Parameters:
    ///   - attempt: the attempt that failed, 1-based.
    ///   - refusedAgainWhileOthersPass: the job was kept aside after a refusal, other jobs have
    ///     passed since, and it is refused again: the refusal is the job's.
    ///   - jitter: where in the backoff's range the wait falls, in 0...1 (random in a worker).
    static func after(
        _ failure: RecognitionFailure,
        attempt: Int,
        rules: Rules,
        refusedAgainWhileOthersPass: Bool = false,
        jitter: Double = .random(in: 0...1)
    ) -> FailureDecision {
        switch failure {
        case .rejected(let error, _):
            return .failForGood(error)
        case .unavailable, .unanswered, .rateLimited, .busy:
            guard attempt < rules.maxAttempts else {
                return .failForGood(
                    JobError(.attemptsExhausted, "gave up after \(attempt) attempts; last cause: \(failure)")
                )
            }
            var delay = rules.backoff.delay(afterAttempt: attempt, jitter: jitter)
            if case .rateLimited = failure { delay = max(delay, rules.rateCoolDown) }
            if case .busy(_, let retryAfter) = failure { delay = max(delay, retryAfter) }
            return .retry(after: delay)
        case .accountProblem(let reason):
            return .pause(reason: reason)
        case .refused(let reason):
            guard refusedAgainWhileOthersPass else { return .setAside(reason: reason) }
            return .failForGood(
                JobError(
                    .rejectedByAPI,
                    """
                    the API refused this image (\(reason)) again while it accepted other jobs: a rule of the API \
                    against this request, not the account
                    """
                )
            )
        }
    }
}
