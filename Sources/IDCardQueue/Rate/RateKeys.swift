/// Where the fleet's rate schedule lives in Redis.
///
/// One queue's own schedule, `P:{Q}:rate…`, beside its other keys (as it always was); or a budget
/// shared by several queues that call the same account, `P:{rate:B}:rate…`, in a hash slot of its
/// own, so that with Redis Cluster each of the gate's scripts still touches one slot.
public struct RateKeys: Sendable, Equatable {
    /// STRING: the limiter's theoretical arrival time (µs, Redis clock).
    public let rate: String
    /// STRING: how far late calls have pushed the schedule back, in all (µs).
    public let ratePushed: String
    /// HASH: the fleet's rate after rate-limit answers (``RateAdaptation``) and the schedule's generation.
    public let rateState: String
    /// A key no script touches, in the same slot (see ``QueueKeys/absent``).
    let absent: String

    /// The schedule of one queue alone.
    public init(queue keys: QueueKeys) {
        rate = keys.rate
        ratePushed = keys.ratePushed
        rateState = keys.rateState
        absent = keys.absent
    }

    /// The budget named `budget`, shared by every queue whose workers name it (`IDOCR_RATE_BUDGET`).
    public init(prefix: String, budget: String) {
        let base = "\(prefix):{rate:\(budget)}:"
        rate = base + "rate"
        ratePushed = base + "rate:pushed"
        rateState = base + "rate:state"
        absent = base + "none"
    }
}
