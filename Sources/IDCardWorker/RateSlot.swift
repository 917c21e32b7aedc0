/// A reserved rate slot: when it is, and the fleet's push-back in all when it was reserved.
struct RateSlot: Sendable {
    /// The gate's wait added to when the worker asked. Redis counted the wait from when it ran
    /// the gate, a little later, so a lateness measured from here is never underestimated.
    var at: ContinuousClock.Instant
    var pushed: Duration
}
