import Foundation
import IDCardContract
import IDCardQueue
import IDCardRecognition
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// One worker process: takes jobs from the queue and runs up to `concurrency` of them at once.
///
/// `run()` is one task tree: beside the job loop run the heartbeat, the reaper of dead workers,
/// the mover of due retries and the depth sampler, all child tasks. On graceful shutdown the job
/// loop stops taking, in-flight jobs get `shutdownGrace` to finish, the rest are given back.
///
/// Follow one job through `JobQueue+Consume` → `Job/WorkerService+Job` → `Recognizer` → `JobQueue+Finish`.
public final class WorkerService: Service, Sendable {
    public let configuration: WorkerConfiguration
    public let health: WorkerHealth
    let queue: JobQueue
    let recognizer: any Recognizer
    let logger: Logger
    let metrics: WorkerMetrics
    let retryPolicy: RetryPolicy
    let intake: JobIntake
    private let stopping = NIOLockedValueBox(false)
    /// The jobs slots are running (and jobs kept aside), by slot: what this worker's processing
    /// list should hold.
    let held = NIOLockedValueBox(HeldJobs())
    /// This process's registration, and what it knows of Redis's clock (`WorkerService+Membership`).
    let membership = NIOLockedValueBox(Membership())
    /// Jobs the recognizer refused in a way that may be theirs or the account's (`WorkerService+Suspects`).
    let suspects = NIOLockedValueBox(Suspects())
    /// Successes stored in the last seconds, to write again after a failover (`WorkerService+RecentSuccesses`).
    let recentSuccesses = NIOLockedValueBox(RecentSuccesses())
    /// Elements the takes refused for their size, whose ids get a failed result and a reply from
    /// a task of their own (a slot must not wait on it while it holds a job not yet held).
    let refusedElements = NIOLockedValueBox<[JobQueue.RefusedElement]>([])
    /// The fleet's rate limit, when there is one.
    let rateGate: RateGate?
    /// The process's job slots, shared with the services of its other queues.
    let capacity: ProcessCapacity
    /// This service's queue among ``capacity``'s.
    let capacityIndex: Int
    /// Redis's clock stepped: every retry waiting in `delayed` is due now (its due time was set by
    /// the clock from before the step; one set behind would stall it for the step's length).
    let retriesDueNow = NIOLockedValueBox(false)
    /// Finished when the worker is asked to stop, so a job loop waiting for a free slot wakes up.
    private let stopSignal = AsyncStream<Never>.makeStream()

    /// How often the maintenance loops run.
    var heartbeatInterval: Duration { .milliseconds(Int64(configuration.heartbeatTimeout * 1000 / 3)) }
    var heartbeatTimeout: Duration { .milliseconds(Int64(configuration.heartbeatTimeout * 1000)) }
    static let promoteInterval = Duration.milliseconds(250)
    static let depthSampleInterval = Duration.seconds(5)

    public init(
        configuration: WorkerConfiguration,
        queue: JobQueue,
        recognizer: any Recognizer,
        health: WorkerHealth = WorkerHealth(),
        capacity: ProcessCapacity? = nil,
        logger: Logger
    ) {
        self.configuration = configuration
        self.queue = queue
        self.recognizer = recognizer
        self.health = health
        var logger = logger
        logger[metadataKey: "worker"] = "\(configuration.workerID)"
        logger[metadataKey: "queue"] = "\(configuration.queue)"
        logger[metadataKey: "provider"] = "\(recognizer.provider)"
        self.logger = logger
        self.metrics = WorkerMetrics(queue: configuration.queue, provider: recognizer.provider)
        self.retryPolicy = RetryPolicy(
            base: .milliseconds(Int64(configuration.retryBase * 1000)),
            cap: .milliseconds(Int64(configuration.retryCap * 1000))
        )
        self.intake = JobIntake(limits: configuration.intakeLimits, replyPrefix: queue.keys.replyPrefix)
        let capacity =
            capacity.flatMap { $0.index(of: configuration.queue) == nil ? nil : $0 }
            ?? ProcessCapacity(
                queues: [WeightedQueue(name: configuration.queue)],
                concurrency: configuration.concurrency,
                rateGate: configuration.rateGate.map {
                    RateGate(queue: queue, configuration: $0, keys: configuration.rateKeys)
                }
            )
        self.capacity = capacity
        self.capacityIndex = capacity.index(of: configuration.queue) ?? 0
        self.rateGate = capacity.rateGate
    }

    var workerID: String { configuration.workerID }

    public func run() async throws {
        logger.info(
            "worker started",
            metadata: [
                "queue": "\(configuration.queue)", "provider": "\(recognizer.provider)",
                "concurrency": "\(configuration.concurrency)", "rateLimit": "\(configuration.rateLimit)",
            ]
        )
        // Register before the first take, so the reaper can always find what this process holds.
        let sentAt = ContinuousClock.now
        guard
            let registered = try? await persistently(
                "register",
                { try await self.queue.register(worker: self.workerID) }
            )
        else { return }
        await adopt(registered, sentAt: sentAt, rejoining: false)

        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.beatHeart() }
            group.addTask { await self.reapDeadWorkers() }
            group.addTask { await self.promoteDueRetries() }
            group.addTask { await self.sampleDepths() }
            group.addTask { await self.recoverLostTakes() }
            group.addTask { await self.answerRefusedElements() }
            await withGracefulShutdownHandler {
                await self.runJobs()
            } onGracefulShutdown: {
                self.stop()
            }
            group.cancelAll()
        }
        await giveBackSuspects(reason: "the worker is stopping")
        await answerRefused(
            refusedElements.withLockedValue { refused in
                defer { refused = [] }
                return refused
            }
        )
        if let registration = currentRegistration {
            do {
                try await queue.deregister(registration)
            } catch {
                logger.warning(
                    "could not deregister; the reaper will return anything left",
                    metadata: ["error": "\(error)"]
                )
            }
        }
        // Commands per round trip show how much the jobs' Redis steps shared round trips.
        logger.info(
            "worker stopped",
            metadata: [
                "redisCommands": "\(queue.commandCounts.values.reduce(0, +))", "redisRoundTrips": "\(queue.roundTrips)",
            ]
        )
    }

    /// True while the worker takes jobs at full concurrency: not stopping, not paused.
    var isTakingJobs: Bool { !isStopping && health.pausedReason == nil }

    var isStopping: Bool { stopping.withLockedValue { $0 } }

    /// Asks the job loop to stop taking jobs, as SIGTERM does.
    public func stop() {
        stopping.withLockedValue { $0 = true }
        capacity.withdraw(capacityIndex)
        stopSignal.continuation.finish()
    }

    /// What ends a child task of the job loop.
    private enum JobLoopEvent {
        case jobEnded, stopRequested, graceOver
    }

    /// The longest an idle worker waits between looks at `pending`. Jobs are taken by a script
    /// (never a blocking pop, which would move a job, whatever its size, into a list no script
    /// checked the worker's registration for); an idle fleet of N workers looks N times as often.
    static let longestIdlePoll = Duration.milliseconds(50)

    /// Takes a job whenever a slot is free; each job is a child task. Returns once every job has ended.
    private func runJobs() async {
        await withTaskGroup(of: JobLoopEvent.self) { jobs in
            jobs.addTask {
                for await _ in self.stopSignal.stream {}
                return .stopRequested
            }
            var inFlight = 0
            var redisFailures = 0
            var idlePolls = 0
            // Connections broken (or left for a new master) whose lost successes were written again.
            var restoredThrough = 0
            while !isStopping && !Task.isCancelled {
                // Paused by an account problem: one job at a time, each a probe, when the probe is due.
                let limit = health.pausedReason == nil ? configuration.concurrency : 1
                if inFlight >= limit {
                    if await jobs.next() == .jobEnded { inFlight -= 1 }
                    continue
                }
                if hasRecheck {
                    guard await capacity.acquire(capacityIndex, upTo: 1) == 1 else { continue }
                    guard let recheck = nextRecheck() else {
                        capacity.release(capacityIndex)
                        continue
                    }
                    inFlight += 1
                    let handoff = Handoff(recheck.context.received)
                    jobs.addTask {
                        await self.runSlot(
                            handoff,
                            slot: recheck.heldSlot,
                            takenAt: .now,
                            recheck: recheck.context.claim
                        )
                    }
                    continue
                }
                if let probe = health.nextProbe, probe > .now {
                    try? await Task.sleep(for: min(probe - .now, .milliseconds(500)))
                    continue
                }
                guard let registration = currentRegistration else {
                    // Reaped while frozen: the heartbeat loop registers anew; nothing is taken until then.
                    try? await Task.sleep(for: .milliseconds(20))
                    continue
                }
                do {
                    // Before any take from a server that may have lost them: the jobs that come
                    // back from lost successes are then answered from them, not paid again.
                    let broken = queue.brokenConnections
                    if broken > restoredThrough {
                        try await restoreRecentSuccesses()
                        restoredThrough = broken
                    }
                    // The process's slots are shared with its other queues: wait for this one's turn.
                    let granted = await capacity.acquire(capacityIndex, upTo: limit - inFlight)
                    guard granted > 0 else { continue }
                    var unused = granted
                    defer { capacity.release(capacityIndex, count: unused, unused: true) }
                    // The fleet's rate slots are handed out a horizon ahead: jobs wait in Redis, not
                    // here, and the slots granted wait with them (given to another queue, they
                    // would only meet the same full schedule).
                    if let held = capacity.takingHeldUntil, held > .now {
                        try? await Task.sleep(until: held, clock: .continuous)
                    }
                    guard !isStopping else { continue }
                    let take = try await queue.take(
                        registration,
                        limit: granted,
                        maxElementBytes: intake.limits.maxElementBytes
                    )
                    unused = granted - take.jobs.count
                    if redisFailures > 0 {
                        logger.info("Redis is back")
                        redisFailures = 0
                    }
                    health.redisAnswered()
                    if !take.refused.isEmpty { refusedElements.withLockedValue { $0 += take.refused } }
                    guard !take.jobs.isEmpty else {
                        if take.refused.isEmpty {
                            idlePolls += 1
                            try? await Task.sleep(
                                for: min(.milliseconds(1 << min(idlePolls, 10)), Self.longestIdlePoll)
                            )
                        }
                        continue
                    }
                    idlePolls = 0
                    let takenAt = ContinuousClock.now
                    for job in take.jobs {
                        inFlight += 1
                        // Held from now: the check for lost takes must never see it unheld.
                        let slot = held.withLockedValue { $0.hold(job) }
                        let handoff = Handoff(job)
                        jobs.addTask { await self.runSlot(handoff, slot: slot, takenAt: takenAt, recheck: nil) }
                    }
                } catch let fenced as WorkerFencedError {
                    noteFenced(fenced.registration)
                } catch {
                    redisFailures += 1
                    let redisError = error as? RedisError ?? .connection("\(error)")
                    if health.redisFailed(redisError) {
                        logger.error("cannot take jobs", metadata: ["error": "\(error)"])
                    }
                    try? await Task.sleep(for: Self.reconnectPolicy.delay(afterAttempt: redisFailures))
                }
            }
            logger.info(
                "stopping: taking no more jobs; letting the jobs in flight finish",
                metadata: ["graceSeconds": "\(configuration.shutdownGrace)"]
            )
            let grace = Duration.milliseconds(Int64(configuration.shutdownGrace * 1000))
            jobs.addTask {
                try? await Task.sleep(for: grace)
                return .graceOver
            }
            if inFlight == 0 { jobs.cancelAll() }
            while let event = await jobs.next() {
                switch event {
                case .jobEnded:
                    inFlight -= 1
                    if inFlight == 0 { jobs.cancelAll() }
                case .graceOver:
                    if inFlight > 0 {
                        logger.warning(
                            "grace period over: giving back unfinished jobs",
                            metadata: ["inFlight": "\(inFlight)"]
                        )
                        jobs.cancelAll()
                    }
                case .stopRequested:
                    break
                }
            }
        }
    }

    /// A slot: runs its first job (already held under `slot`), then each job the step that ended
    /// the one before handed over, each held before the one it follows is let go.
    private func runSlot(
        _ handoff: Handoff,
        slot: Int,
        takenAt: ContinuousClock.Instant,
        recheck: JobQueue.CallClaim?
    ) async -> JobLoopEvent {
        defer { capacity.release(capacityIndex) }
        guard let first = handoff.take() else {
            held.withLockedValue { $0.forget(slot) }
            return .jobEnded
        }
        var current = (job: first, slot: slot)
        var takenAt = takenAt
        var recheck = recheck
        while true {
            let next = await process(current.job, takenAt: takenAt, recheck: recheck)
            let nextSlot = next.map { next in held.withLockedValue { $0.hold(next) } }
            held.withLockedValue { $0.forget(current.slot) }
            guard let next, let nextSlot else { return .jobEnded }
            current = (next, nextSlot)
            takenAt = .now
            recheck = nil
        }
    }

    /// Passes a slot its first job without the slot's closure holding that job (and its image) while
    /// the slot runs the jobs after it.
    private final class Handoff: Sendable {
        private let job: NIOLockedValueBox<ReceivedJob?>
        init(_ job: ReceivedJob) { self.job = NIOLockedValueBox(job) }
        func take() -> ReceivedJob? { job.withLockedValue { $0.take() } }
    }

    /// Jobs held by running slots, kept aside, or being dead-lettered: what this worker's
    /// processing list should hold.
    struct HeldJobs {
        private var jobs: [Int: (element: Data, holder: WorkerRegistration?)] = [:]
        private var nextSlot = 0

        mutating func hold(_ job: ReceivedJob) -> Int {
            nextSlot += 1
            jobs[nextSlot] = (job.element, job.holder)
            return nextSlot
        }

        /// The slot no longer holds its job: it ended, went back, or passed to the next.
        mutating func forget(_ slot: Int) { jobs[slot] = nil }

        /// The elements held under `registration`: jobs taken under an earlier one are not in its list.
        func elements(heldUnder registration: WorkerRegistration) -> [Data] {
            jobs.values.filter { $0.holder == registration }.map(\.element)
        }
    }

    /// Reconnecting to Redis: quick at first, at most every 5 s.
    static let reconnectPolicy = RetryPolicy(base: .milliseconds(100), cap: .seconds(5))
}
