import Foundation
import IDCardContract
import NIOConcurrencyHelpers

/// The fleet's rate limit: every process on one Redis and queue (or budget, ``RateKeys``) shares
/// one schedule of call slots.
///
/// Everything about the quota lives here:
/// - **Slots** (GCRA): one "theoretical arrival time" in Redis, Redis's clock, spaced
///   ``Configuration/spacingMargin`` wider than 1/rate, so a strict per-second limiter sees no
///   excess from arrival jitter.
/// - **A horizon**: no slot is booked more than ``Configuration/horizon`` ahead; a job that would
///   wait longer goes back to Redis (``Reservation/later(_:)``), and a process that stops or dies
///   wastes at most that much of the quota.
/// - **Push-back**: a call that leaves more than ``Configuration/lateCallTolerance`` after its slot
///   (a starved process, a cold connection, a slow Redis reply) lands among later slots' calls;
///   the next reservation pushes the schedule back by what the fleet's running total lacks.
/// - **Cool-down and adaptation**: a rate-limit answer holds every call off for the cool-down,
///   calls waiting longer than ``Configuration/confirmAbove`` for their slot included (each
///   confirms its slot ``Configuration/confirmLead`` before it; one due sooner goes as reserved), and
///   lowers the fleet's rate below the refused one (``RateAdaptation``).
/// - **Loss and clock steps**: a missing schedule (a failover, an eviction) or one implausibly far
///   ahead (Redis's clock stepped back) restarts a horizon from now, so slots already handed out
///   cannot overlap new ones; a step seen in Redis's clock does the same.
public final class RateGate: Sendable {
    public struct Configuration: Sendable {
        /// `IDOCR_RATE_LIMIT`: calls per second for the whole fleet.
        public var limit: Double
        /// `IDOCR_RATE_COOLDOWN`: how long every call holds off after a rate-limit answer.
        public var coolDown: Duration
        /// How far ahead a slot may be booked: a process that stops or dies wastes at most this
        /// much of the quota, and a late call's push-back reaches every slot booked after it. Default
        /// a quarter of a second, and at least two slots.
        public var horizon: Duration

        public init(limit: Double, coolDown: Duration = .seconds(1), horizon: Duration? = nil) {
            self.limit = limit
            self.coolDown = coolDown
            self.horizon = .zero
            self.horizon = horizon ?? max(.milliseconds(250), interval * 2)
        }

        /// Slots are spaced this much wider than 1/rate: 15 ms of arrival jitter absorbed per
        /// second at any rate, for 98.5 % of the quota.
        public static let spacingMargin = 1.015
        /// The part of the margin a call's own lateness may use; the rest is for what no worker
        /// sees (the network, the server's own queueing).
        public static let lateCallTolerance = Duration.milliseconds(5)
        /// A call later than a second after its slot is outside every window its slot shared.
        public static let maxPushBack = Duration.seconds(1)
        /// A wait longer than this confirms its slot ``confirmLead`` before it comes.
        static let confirmAbove = Duration.milliseconds(25)
        static let confirmLead = Duration.milliseconds(10)
        /// Redis's clock off by more than this from where this process expects it: a step.
        static let clockStepTolerance = Duration.milliseconds(200)

        /// The spacing at the configured rate.
        public var interval: Duration { .microseconds(Int64((1_000_000 * Self.spacingMargin / limit).rounded())) }
    }

    /// A reserved slot, confirmed.
    public struct Slot: Sendable {
        /// When it is, by this process's clock: the reservation's wait added to when it was asked
        /// for (Redis counted from a little later), so lateness measured from here is never underestimated.
        public var at: ContinuousClock.Instant
        /// The fleet's push-back total when it was reserved.
        public var pushed: Duration
        /// The schedule's generation: a rate-limit answer starts a new one, voiding slots not yet come.
        var generation: Int
        /// The fleet's rate when it was reserved (calls per second).
        var rate: Double
        /// How long the caller waited for it, confirmations included.
        public var waited: Duration
    }

    public enum Reservation: Sendable {
        /// Call now: the slot has come.
        case slot(Slot)
        /// The next free slot is beyond the horizon: give the job back and take none for this long.
        case later(Duration)
    }

    public let configuration: Configuration
    /// Where the schedule lives: the queue's own keys, or a budget shared by several queues.
    public let keys: RateKeys
    private let redis: RedisClient
    /// How far this process's late calls need the schedule pushed back; passed on at the next reservation.
    private let owedPushBack = NIOLockedValueBox(Duration.zero)
    /// Redis's clock beside this process's, from the reservations: a step restarts the schedule.
    private let redisClock = NIOLockedValueBox(RedisClockWatch())

    /// - Parameter keys: the schedule's keys; default the queue's own (`P:{Q}:rate`).
    public init(queue: JobQueue, configuration: Configuration, keys: RateKeys? = nil) {
        self.redis = queue.redis
        self.keys = keys ?? RateKeys(queue: queue.keys)
        self.configuration = configuration
    }

    private func runScript(
        _ script: RedisScript,
        keys scriptKeys: KeyValuePairs<String, String?>,
        arguments: KeyValuePairs<String, RedisArgument>
    ) async throws -> RedisValue {
        try await redis.run(script, keys: scriptKeys, arguments: arguments, absentKey: keys.absent)
    }

    /// Reserves the next slot and waits for it: confirmed just before it comes, reserved again when
    /// a rate-limit answer voided it meanwhile.
    /// - Parameter deadline: no later than this (the call's claims last that long): a slot after it
    ///   is given up, and the answer is ``Reservation/later(_:)``.
    /// - Throws: a Redis error (nothing is owed then but what was already), or `CancellationError`.
    /// - Parameter booked: told as soon as a slot is booked, before the wait for it (again if a
    ///   rate-limit answer voided it and another is booked): another caller may book from then on.
    public func reserve(
        by deadline: ContinuousClock.Instant? = nil,
        booked: @Sendable () -> Void = {}
    ) async throws -> Reservation {
        let started = ContinuousClock.now
        while true {
            let askedAt = ContinuousClock.now
            let owed = takeOwedPushBack()
            let reply: RedisValue
            do {
                reply = try await runScript(
                    Self.reserveScript,
                    keys: ["rate": keys.rate, "ratePushed": keys.ratePushed, "rateState": keys.rateState],
                    arguments: [
                        "configured": .string(String(configuration.limit)),
                        "spacingMargin": .string(String(Configuration.spacingMargin)),
                        "pushBackLevel": .int(Self.micros(owed)),
                        "mostPushed": .int(Self.micros(Configuration.maxPushBack)),
                        "horizon": .int(Self.micros(configuration.horizon)),
                        "coolDown": .int(Self.micros(configuration.coolDown)),
                        "recovery": .string(String(RateAdaptation.recovery)),
                        "ceilingRecovery": .string(String(RateAdaptation.ceilingRecovery)),
                    ]
                )
            } catch {
                owe(owed)
                throw error
            }
            guard let parts = reply.array, parts.count == 6, let verdict = parts[0].string, let micros = parts[1].int,
                let generation = parts[2].int, let rate = parts[3].string.flatMap(Double.init),
                let redisNow = parts[4].int, let pushed = parts[5].int
            else { throw RedisError.unexpectedReply("the rate reservation returned \(reply)") }
            let stepped = redisClock.withLockedValue {
                $0.observe(
                    redisMicroseconds: Int64(redisNow),
                    sentAt: askedAt,
                    answeredAt: .now,
                    tolerance: Configuration.clockStepTolerance
                )
            }
            if stepped != nil {
                try await restartSchedule()
                continue
            }
            let wait = Duration.microseconds(micros)
            if verdict == "later" { return .later(wait) }
            let slot = askedAt + wait
            if let deadline, slot > deadline { return .later(slot - .now) }
            booked()
            if wait > Configuration.confirmAbove {
                try await Task.sleep(until: slot - Configuration.confirmLead, clock: .continuous)
                guard try await currentGeneration() == generation else { continue }
            }
            try await Task.sleep(until: slot, clock: .continuous)
            return .slot(
                Slot(
                    at: slot,
                    pushed: .microseconds(pushed),
                    generation: generation,
                    rate: rate,
                    waited: .now - started
                )
            )
        }
    }

    /// The call of `slot` has started going out (its request head is written). Runs on the HTTP
    /// client's event loop.
    /// - Returns: true when it was late enough to have the schedule pushed back.
    @discardableResult
    public func noteSent(_ slot: Slot) -> Bool {
        let excess = ContinuousClock.now - slot.at - Configuration.lateCallTolerance
        guard excess > .zero else { return false }
        owe(slot.pushed + excess)
        return true
    }

    /// The API answered the call of `slot` with "too many calls": the whole fleet holds off for
    /// the cool-down, slots already handed out included, and runs slower from then on. Refusals of
    /// calls reserved before that change belong to the same burst and change nothing more.
    /// - Returns: true when this refusal lowered the fleet's rate.
    @discardableResult
    public func noteRefused(_ slot: Slot) async throws -> Bool {
        let next = RateAdaptation.afterRefusal(of: slot.rate, configured: configuration.limit, at: 0)
        let reply = try await runScript(
            Self.refusedScript,
            keys: ["rate": keys.rate, "rateState": keys.rateState],
            arguments: [
                "generation": .int(slot.generation), "rate": .string(String(next.limit)),
                "ceiling": .string(String(next.ceiling)), "coolDown": .int(Self.micros(configuration.coolDown)),
            ]
        )
        return reply.int == 1
    }

    /// The fleet's adaptation as stored: `nil` while it runs at the configured rate.
    public func adaptation() async throws -> RateAdaptation? {
        let reply = try await redis.send("HMGET", .string(keys.rateState), "limit", "ceiling", "since")
        guard let parts = reply.array, parts.count == 3, let limit = parts[0].string.flatMap(Double.init),
            let ceiling = parts[1].string.flatMap(Double.init), let since = parts[2].int
        else { return nil }
        return RateAdaptation(limit: limit, ceiling: ceiling, since: Int64(since))
    }

    /// Restarts the schedule a horizon from now and voids every slot not yet come: after Redis's
    /// clock stepped, no slot handed out before can be trusted to be where the schedule says.
    public func restartSchedule() async throws {
        let plausible = configuration.horizon + configuration.coolDown + Configuration.maxPushBack * 2
        _ = try await runScript(
            Self.restartScript,
            keys: ["rate": keys.rate, "rateState": keys.rateState],
            arguments: ["horizon": .int(Self.micros(configuration.horizon)), "furthest": .int(Self.micros(plausible))]
        )
        redisClock.withLockedValue { $0.reset() }
    }

    private func currentGeneration() async throws -> Int {
        try await redis.send("HGET", .string(keys.rateState), "generation").int ?? 0
    }

    private func takeOwedPushBack() -> Duration {
        owedPushBack.withLockedValue { level in
            defer { level = .zero }
            return level
        }
    }

    private func owe(_ level: Duration) {
        owedPushBack.withLockedValue { $0 = max($0, level) }
    }

    static func micros(_ duration: Duration) -> Int { Int(duration / .microseconds(1)) }
}
