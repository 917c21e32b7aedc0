import Foundation
import IDCardContract
import IDCardTestSupport
import Testing

@testable import IDCardQueue

/// The fleet's rate gate on a real redis-server (its adaptation as arithmetic: `RateAdaptationTests`).
@Suite("The fleet's rate gate")
struct RateGateTests {
    static func withGate<T: Sendable>(
        limit: Double = 1000,
        coolDown: Duration = .seconds(1),
        horizon: Duration = .seconds(3),
        _ body: @Sendable (JobQueue, RateGate) async throws -> T
    ) async throws -> T {
        try await Harness.withRedis { redis in
            let queue = JobQueue(redis: redis.configuration, keys: QueueKeys(queue: Harness.uniqueQueue()))
            let gate = RateGate(queue: queue, configuration: .init(limit: limit, coolDown: coolDown, horizon: horizon))
            let outcome = await Result { try await body(queue, gate) }
            await queue.shutdown()
            return try outcome.get()
        }
    }

    static func slot(_ gate: RateGate) async throws -> RateGate.Slot {
        guard case .slot(let slot) = try await gate.reserve() else {
            throw TestSupportError("no slot within the horizon")
        }
        return slot
    }

    /// A call of `slot` that went out `late` after it.
    static func sentLate(_ gate: RateGate, _ slot: RateGate.Slot, by late: Duration) {
        var backdated = slot
        backdated.at = .now - late - RateGate.Configuration.lateCallTolerance
        #expect(gate.noteSent(backdated))
    }

    @Test("late calls push the fleet's schedule back by what the running total lacks, at most a second at once")
    func pushBack() async throws {
        try await Self.withGate { _, gate in
            let before = ContinuousClock.now
            let first = try await Self.slot(gate)
            // A queue's first slot is now (not a horizon on): no schedule was lost.
            #expect(first.pushed == .zero && first.at - before < .seconds(1))
            Self.sentLate(gate, first, by: .milliseconds(800))
            let pushed = try await Self.slot(gate)
            #expect(pushed.at - first.at >= .milliseconds(800))
            #expect(pushed.pushed >= .milliseconds(800) && pushed.pushed < .milliseconds(900))
            // Already covered by that push: nothing more.
            Self.sentLate(gate, first, by: .milliseconds(500))
            let covered = try await Self.slot(gate)
            #expect(covered.pushed == pushed.pushed)
            // Ten seconds more asked, one given.
            Self.sentLate(gate, covered, by: .seconds(10))
            let capped = try await Self.slot(gate)
            #expect(capped.at - covered.at >= .seconds(1) && capped.pushed == pushed.pushed + .seconds(1))
            // On time: nothing owed.
            var onTime = capped
            onTime.at = .now + .seconds(1)
            #expect(!gate.noteSent(onTime))
        }
    }

    @Test("no slot is booked beyond the horizon: the job is told to wait in Redis")
    func horizon() async throws {
        // 1 a second, 1015 ms apart: slots at 0, 1.015 and 2.03 s fit a 2.5 s horizon; the fourth
        // (3.045 s) does not, unless reserved half a second after the first.
        try await Self.withGate(limit: 1, horizon: .milliseconds(2500)) { _, gate in
            let reservations = try await withThrowingTaskGroup(of: RateGate.Reservation.self) { group in
                for _ in 0..<4 { group.addTask { try await gate.reserve() } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let later = reservations.compactMap { reservation -> Duration? in
                if case .later(let wait) = reservation { return wait }
                return nil
            }
            #expect(later.count == 1)
            #expect((later.first ?? .zero) > .zero && (later.first ?? .seconds(1)) <= .milliseconds(550))
        }
    }

    @Test("a lost schedule (failover, eviction) restarts a horizon from now: no burst over slots already handed out")
    func lostSchedule() async throws {
        try await Self.withGate(horizon: .milliseconds(800)) { queue, gate in
            _ = try await Self.slot(gate)
            _ = try await queue.redis.send("DEL", .string(queue.keys.rate))
            let afterLoss = try await Self.slot(gate)
            #expect(afterLoss.waited >= .milliseconds(790))
        }
    }

    @Test(
        "a rate-limit answer slows the whole fleet at once, slots already waiting included; the same burst counts once"
    )
    func refusal() async throws {
        try await Self.withGate(limit: 2, coolDown: .seconds(1), horizon: .seconds(5)) { queue, gate in
            let first = try await Self.slot(gate)
            // The next free slot is 4 s away (as after a busy spell): a call waits for it. A stall
            // of the test before the refusal below longer than that lets the call confirm its slot
            // first (3 s once, in a CI run of the whole suite); much further, and the lowered rate
            // has recovered past the ceiling by the time the call reserves again (4.4 s).
            _ = try await queue.redis.send(
                "EVAL",
                "local t = redis.call('TIME') redis.call('SET', KEYS[1], t[1] * 1000000 + t[2] + 4000000) return 1",
                "1",
                .string(queue.keys.rate)
            )
            let booked = try #require(try await queue.redis.send("GET", .string(queue.keys.rate)).int)
            async let waiting = Self.slot(gate)
            try await Harness.eventually("the waiting call's slot is booked") {
                try await (queue.redis.send("GET", .string(queue.keys.rate)).int ?? 0) > booked
            }
            #expect(try await gate.noteRefused(first))
            #expect(try await !gate.noteRefused(first))  // another call of the same burst: no second decrease
            // The slot it was waiting for was voided: it reserved again, at the lowered rate.
            let next = try await waiting
            #expect(next.generation == first.generation + 1)
            #expect(next.rate < 2 * RateAdaptation.ceilingShare)
            let adaptation = try #require(try await gate.adaptation())
            #expect(abs(adaptation.limit - 2 * RateAdaptation.decrease) < 0.001)
            #expect(abs(adaptation.ceiling - 2 * RateAdaptation.ceilingShare) < 0.001)
        }
        // A call reserved after the answer waits for the cool-down.
        try await Self.withGate(limit: 50, coolDown: .milliseconds(700)) { _, gate in
            let first = try await Self.slot(gate)
            let refusedAt = ContinuousClock.now
            #expect(try await gate.noteRefused(first))
            let after = try await Self.slot(gate)
            #expect(after.at - refusedAt >= .milliseconds(650))
        }
    }
}
