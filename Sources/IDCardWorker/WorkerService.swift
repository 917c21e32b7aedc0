import Foundation
import IDCardQueue
import IDCardRecognition
import Logging
import ServiceLifecycle
import NIOConcurrencyHelpers

/// One worker process: takes jobs from the queue and runs up to `concurrency` of them at once.
///
/// `run()` is one task tree: beside the job loop run the heartbeat, the reaper of dead workers,
/// the mover of due retries and the depth sampler, all child tasks. On graceful shutdown the job
/// loop stops taking, in-flight jobs get `shutdownGrace` to finish, the rest are given back.
///
/// Follow one job through `JobQueue+Consume` → `WorkerService+Job` → `Recognizer` → `JobQueue+Finish`.
public final class WorkerService: Service, Sendable {
    public let configuration: WorkerConfiguration
    public let health: WorkerHealth
    let queue: JobQueue
    let recognizer: any Recognizer
    let logger: Logger
    let metrics: WorkerMetrics
    let retryPolicy: RetryPolicy
    let intakeLimits: IntakeLimits
    private let stopping = NIOLockedValueBox(false)
    /// The jobs slots are running, by slot: what this worker's processing list should hold.
    let held = NIOLockedValueBox(HeldJobs())
    /// How far this process's late calls need the fleet's schedule pushed back, until its next
    /// gate passes it on (see `WorkerService+LateCalls`).
    let ratePushBack = NIOLockedValueBox(Duration.zero)
    /// Finished when the worker is asked to stop, so a job loop waiting for a free slot wakes up.
    private let stopSignal = AsyncStream<Never>.makeStream()

    /// How often the maintenance loops run.
    var heartbeatInterval: Duration { .milliseconds(Int64(configuration.heartbeatTimeout * 1000 / 3)) }
    static let promoteInterval = Duration.milliseconds(250)
    static let depthSampleInterval = Duration.seconds(5)

    public init(configuration: WorkerConfiguration, queue: JobQueue, recognizer: any Recognizer, health: WorkerHealth = WorkerHealth(), logger: Logger) {
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
            base: .milliseconds(Int64(configuration.retryBase * 1000)), cap: .milliseconds(Int64(configuration.retryCap * 1000))
        )
        self.intakeLimits = configuration.intakeLimits
    }

    var workerID: String { configuration.workerID }

    public func run() async throws {
        logger.info("worker started", metadata: [
            "queue": "\(configuration.queue)", "provider": "\(recognizer.provider)",
            "concurrency": "\(configuration.concurrency)", "rateLimit": "\(configuration.rateLimit)",
        ])
        // Register before the first take, so the reaper can always find what this process holds.
        guard (try? await persistently("register") { try await self.queue.heartbeat(worker: self.workerID) }) != nil else { return }

        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.beatHeart() }
            group.addTask { await self.reapDeadWorkers() }
            group.addTask { await self.promoteDueRetries() }
            group.addTask { await self.sampleDepths() }
            group.addTask { await self.recoverLostTakes() }
            await withGracefulShutdownHandler {
                await self.runJobs()
            } onGracefulShutdown: {
                self.stop()
            }
            group.cancelAll()
        }
        do {
            try await queue.deregister(worker: workerID)
        } catch {
            logger.warning("could not deregister; the reaper will return anything left", metadata: ["error": "\(error)"])
        }
        // Commands per round trip show how much the jobs' Redis steps shared round trips.
        logger.info("worker stopped", metadata: [
            "redisCommands": "\(queue.commandCounts.values.reduce(0, +))", "redisRoundTrips": "\(queue.roundTrips)",
        ])
    }

    /// True while the worker takes jobs at full concurrency: not stopping, not paused.
    var isTakingJobs: Bool { !isStopping && health.pausedReason == nil }

    private var isStopping: Bool { stopping.withLockedValue { $0 } }

    /// Asks the job loop to stop taking jobs, as SIGTERM does.
    public func stop() {
        stopping.withLockedValue { $0 = true }
        stopSignal.continuation.finish()
    }

    /// What ends a child task of the job loop.
    private enum JobLoopEvent {
        case jobEnded, stopRequested, graceOver
    }

    /// Takes a job whenever a slot is free; each job is a child task. Returns once every job has ended.
    private func runJobs() async {
        await withTaskGroup(of: JobLoopEvent.self) { jobs in
            jobs.addTask {
                for await _ in self.stopSignal.stream {}
                return .stopRequested
            }
            var inFlight = 0
            var redisFailures = 0
            // While the last take found jobs, take without blocking, alongside the other jobs' steps.
            var backlog = false
            while !isStopping && !Task.isCancelled {
                // Paused by an account problem: one job at a time, each a probe, when the probe is due.
                let limit = health.pausedReason == nil ? configuration.concurrency : 1
                if inFlight >= limit {
                    if await jobs.next() == .jobEnded { inFlight -= 1 }
                    continue
                }
                if let probe = health.nextProbe, probe > .now {
                    try? await Task.sleep(for: min(probe - .now, .milliseconds(500)))
                    continue
                }
                do {
                    var taken = backlog ? try await queue.take(worker: workerID, limit: limit - inFlight) : []
                    if taken.isEmpty, let job = try await queue.waitForJob(worker: workerID, timeoutSeconds: 1) {
                        taken = [job]
                    }
                    backlog = !taken.isEmpty
                    if redisFailures > 0 {
                        logger.info("Redis is back")
                        redisFailures = 0
                        health.redisReachable(true)
                    }
                    let takenAt = ContinuousClock.now
                    for job in taken {
                        inFlight += 1
                        let handoff = Handoff(job)
                        jobs.addTask {
                            // A slot: the step that ends a job may hand over the next one.
                            var next = handoff.take()
                            var takenAt = takenAt
                            while let job = next {
                                let slot = self.held.withLockedValue { $0.hold(job.element) }
                                next = await self.process(job, takenAt: takenAt)
                                self.held.withLockedValue { $0.release(slot) }
                                takenAt = .now
                            }
                            return .jobEnded
                        }
                    }
                } catch {
                    redisFailures += 1
                    health.redisReachable(false)
                    if redisFailures == 1 { logger.error("cannot take jobs", metadata: ["error": "\(error)"]) }
                    try? await Task.sleep(for: Self.reconnectPolicy.delay(afterAttempt: redisFailures))
                }
            }
            logger.info("stopping: taking no more jobs; letting the jobs in flight finish", metadata: ["graceSeconds": "\(configuration.shutdownGrace)"])
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
                        logger.warning("grace period over: giving back unfinished jobs", metadata: ["inFlight": "\(inFlight)"])
                        jobs.cancelAll()
                    }
                case .stopRequested:
                    break
                }
            }
        }
    }

    /// Passes a slot its first job without the slot's closure holding that job (and its image) while
    /// the slot runs the jobs after it.
    private final class Handoff: Sendable {
        private let job: NIOLockedValueBox<ReceivedJob?>
        init(_ job: ReceivedJob) { self.job = NIOLockedValueBox(job) }
        func take() -> ReceivedJob? { job.withLockedValue { $0.take() } }
    }

    /// Job elements held by running slots.
    struct HeldJobs {
        private var elements: [Int: Data] = [:]
        private var nextSlot = 0

        mutating func hold(_ element: Data) -> Int {
            nextSlot += 1
            elements[nextSlot] = element
            return nextSlot
        }

        mutating func release(_ slot: Int) { elements[slot] = nil }

        var all: [Data] { Array(elements.values) }
    }

    /// Reconnecting to Redis: quick at first, at most every 5 s.
    static let reconnectPolicy = RetryPolicy(base: .milliseconds(100), cap: .seconds(5))
}
