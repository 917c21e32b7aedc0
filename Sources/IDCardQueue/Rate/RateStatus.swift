/// The fleet's rate schedule as an operator reads it (the dashboard): the plan's rate, where the
/// adaptation holds it after rate-limit answers, how much of it calls use, any cool-down.
public struct RateStatus: Sendable, Equatable {
    /// `IDOCR_RATE_LIMIT` as the workers last gave it; `nil` before any rate-limited call.
    public var configured: Double?
    /// The rate slots are handed out at now: below `configured` while recovering from a
    /// rate-limit answer.
    public var effective: Double?
    /// Slots handed out in all: the difference between two readings over their interval is the
    /// budget in use.
    public var reserved: Int
    /// Time left of the fleet's hold after a rate-limit answer; `nil` when none is running.
    public var coolDownRemaining: Duration?
    /// How far ahead of now the schedule's next free slot is: slots already handed out and not
    /// yet come (0 when calls could go at once).
    public var scheduledAhead: Duration

    public init(
        configured: Double?,
        effective: Double?,
        reserved: Int,
        coolDownRemaining: Duration?,
        scheduledAhead: Duration
    ) {
        self.configured = configured
        self.effective = effective
        self.reserved = reserved
        self.coolDownRemaining = coolDownRemaining
        self.scheduledAhead = scheduledAhead
    }
}
