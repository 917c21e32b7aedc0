import IDCardContract

/// How the fleet's rate follows what the API accepts, when `IDOCR_RATE_LIMIT` is set above the
/// plan's real quota or the API throttles: pure arithmetic, kept apart so it can be checked
/// without servers (the reserve script computes ``effectiveRate(at:configured:)`` the same way).
///
/// A rate-limit answer for a call reserved at rate `r` (the first since the last decrease; later
/// ones belong to the same burst) sets the rate to `r × decrease` and a ceiling of
/// `r × ceilingShare`, below the rate that was refused. The rate then climbs back by `recovery` of
/// that ceiling per second, but only up to the ceiling; the ceiling itself climbs by
/// `ceilingRecovery` of itself per second (2 % a minute), so a plan upgrade or a spurious refusal
/// is outgrown within six minutes while a real quota is probed only every few minutes, a refusal
/// or two each time. A limit 1.5× above the quota settles below it after two or three refusals (the
/// second refusal comes at a rate a little above the quota, as calls bunch up, and 0.9× that is
/// below it).
public struct RateAdaptation: Sendable, Equatable {
    /// The rate after the last decrease (calls per second).
    public var limit: Double
    /// No more than this right after the last decrease (calls per second).
    public var ceiling: Double
    /// Redis's clock at the last decrease (µs).
    public var since: Int64

    public init(limit: Double, ceiling: Double, since: Int64) {
        self.limit = limit
        self.ceiling = ceiling
        self.since = since
    }

    /// The rate right after a refusal: this share of the refused call's rate.
    public static let decrease = 0.7
    /// The ceiling after a refusal: this share of the refused call's rate.
    public static let ceilingShare = 0.9
    /// Per second after a decrease, the rate climbs back by this share of the ceiling set then.
    public static let recovery = 0.05
    /// Per second after a decrease, the ceiling climbs by this share of itself (2 % a minute).
    public static let ceilingRecovery = 0.02 / 60
    /// Never below this share of the configured rate: an API refusing everything still gets probed.
    public static let floor = 0.02

    /// The state after the API refused a call reserved at `refusedRate`.
    public static func afterRefusal(of refusedRate: Double, configured: Double, at now: Int64) -> RateAdaptation {
        RateAdaptation(
            limit: max(configured * floor, refusedRate * decrease),
            ceiling: max(configured * floor, refusedRate * ceilingShare),
            since: now
        )
    }

    /// The fleet's rate at `now` (µs, Redis's clock), never above `configured`.
    public func effectiveRate(at now: Int64, configured: Double) -> Double {
        let elapsed = max(0, Double(now - since) / 1_000_000)
        let ceiling = min(configured, self.ceiling * (1 + Self.ceilingRecovery * elapsed))
        return min(ceiling, limit + self.ceiling * Self.recovery * elapsed)
    }
}
