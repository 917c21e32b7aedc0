import IDCardQueue
import Testing

/// How the fleet's rate adapts to refusals, as arithmetic: a simulated strict limiter, no server.
@Suite("The rate's adaptation to refusals")
struct RateAdaptationTests {
    /// A strict sliding-second limiter of `quota` calls, and a fleet configured at 1.5× it: calls
    /// arrive at the fleet's rate (spaced 1.5 % wider), the refusal of one is known `latency`
    /// later, when the rate is lowered and every call holds off for the cool-down.
    static func simulate(
        quota: Int,
        configured: Double,
        seconds: Double,
        latency: Double = 0.3,
        coolDown: Double = 1
    )
        -> (calls: Int, refused: Int, finalRate: Double)
    {
        var window: [Double] = []
        var adaptation: RateAdaptation?
        var generation = 0
        var t = 0.0
        var calls = 0
        var refused = 0
        var pending: [(answeredAt: Double, generation: Int, rate: Double)] = []
        func rate(at time: Double) -> Double {
            adaptation?.effectiveRate(at: Int64(time * 1_000_000), configured: configured) ?? configured
        }
        while t < seconds {
            // Answers that came back before this call: a refusal of the current generation acts.
            for answer in pending where answer.answeredAt <= t && answer.generation == generation {
                adaptation = RateAdaptation.afterRefusal(
                    of: answer.rate,
                    configured: configured,
                    at: Int64(answer.answeredAt * 1_000_000)
                )
                generation += 1
                t = max(t, answer.answeredAt + coolDown)
            }
            pending.removeAll { $0.answeredAt <= t }
            window.removeAll { t - $0 >= 1 }
            let current = rate(at: t)
            calls += 1
            if window.count >= quota {
                refused += 1
                pending.append((t + latency, generation, current))
            } else {
                window.append(t)
            }
            t += RateGate.Configuration.spacingMargin / current
        }
        return (calls, refused, rate(at: t))
    }

    @Test("a limit set 1.5× above the real quota settles below it, with at most 2 % of a minute's calls refused")
    func adaptationSettles() {
        for quota in [10, 50, 200] {
            let minute = Self.simulate(quota: quota, configured: 1.5 * Double(quota), seconds: 60)
            #expect(Double(minute.refused) <= 0.02 * Double(minute.calls), "quota \(quota): \(minute)")
            // Settled: the next minutes call below the quota, using most of it, and are refused rarely
            // (the ceiling's slow climb probes the quota now and then).
            let later = Self.simulate(quota: quota, configured: 1.5 * Double(quota), seconds: 300)
            let (calls, refused) = (later.calls - minute.calls, later.refused - minute.refused)
            #expect(
                Double(calls) <= 240 * Double(quota) && Double(calls) >= 0.9 * 240 * Double(quota),
                "quota \(quota): \(later)"
            )
            #expect(Double(refused) <= 0.005 * Double(calls), "quota \(quota): \(later)")
        }
    }

    @Test("after a spurious refusal, the rate climbs back to the configured one within minutes")
    func adaptationRecovers() {
        let refusedAt: Int64 = 1_000_000_000
        let adaptation = RateAdaptation.afterRefusal(of: 50, configured: 50, at: refusedAt)
        #expect(adaptation.effectiveRate(at: refusedAt, configured: 50) == 35)
        // 10 s on: at the ceiling, 90 % of the refused rate, itself climbing 2 % a minute.
        #expect(abs(adaptation.effectiveRate(at: refusedAt + 10_000_000, configured: 50) - 45.15) < 0.01)
        #expect(adaptation.effectiveRate(at: refusedAt + 360_000_000, configured: 50) == 50)  // six minutes on
    }
}
