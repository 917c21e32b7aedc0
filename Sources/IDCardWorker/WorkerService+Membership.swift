import IDCardContract
import IDCardQueue
import Logging

/// This process's registration in the fleet, and what it knows of Redis's clock.
///
/// A worker frozen past the heartbeat timeout (SIGSTOP, a paused VM, CPU starvation, a partition)
/// is reaped: its jobs go back to `pending` and its registration ends. Redis then refuses every
/// step it names that registration in (``WorkerRegistration``), so when it thaws it can neither
/// take a job into a list nobody watches nor end a job that is someone else's now. The first
/// refused step tells it; the heartbeat loop registers it anew (``rejoin()``).
extension WorkerService {
    struct Membership {
        /// `nil` before the first registration and from a refused step until the next one.
        var current: WorkerRegistration?
        /// Redis's clock beside this process's, from registrations and heartbeats.
        var redisClock = RedisClockWatch()
    }

    /// The registration jobs are taken under now; `nil` while there is none.
    var currentRegistration: WorkerRegistration? { membership.withLockedValue(\.current) }

    /// A step was refused: `registration` is over. Nothing more is taken under it; the heartbeat
    /// loop registers again. Jobs held under it end without touching Redis's lists.
    func noteFenced(_ registration: WorkerRegistration) {
        let isNews = membership.withLockedValue { membership in
            guard membership.current == registration else { return false }
            membership.current = nil
            return true
        }
        if isNews {
            logger.warning(
                """
                this worker was presumed dead (no heartbeat for IDOCR_HEARTBEAT_TIMEOUT: frozen, paused or cut off) \
                and its jobs given back; registering again
                """,
                metadata: ["epoch": "\(registration.epoch)"]
            )
        }
    }

    /// Takes on a new registration: its clock reading, and the jobs lost too often that it found.
    func adopt(_ registered: JobQueue.Registered, sentAt: ContinuousClock.Instant, rejoining: Bool) async {
        membership.withLockedValue { $0.current = registered.registration }
        noteRedisClock(registered.redisMilliseconds, sentAt: sentAt)
        if registered.recovered > 0 {
            logger.warning(
                "gave back the jobs a process of the same IDOCR_WORKER_ID left behind",
                metadata: ["jobs": "\(registered.recovered)"]
            )
        }
        if rejoining {
            logger.info("registered again", metadata: ["epoch": "\(registered.registration.epoch)"])
        }
        for job in registered.setAside { await failLost(job) }
    }

    /// Registers anew after a refused step. Registering recovers whatever the list still held.
    func rejoin() async {
        do {
            let sentAt = ContinuousClock.now
            let registered = try await queue.register(worker: workerID)
            await adopt(registered, sentAt: sentAt, rejoining: true)
        } catch let error as RedisError {
            health.redisDisturbed(error)
            logger.debug("could not register again yet", metadata: ["error": "\(error)"])
        } catch {
            logger.debug("could not register again yet", metadata: ["error": "\(error)"])
        }
    }

    /// Takes a reading of Redis's clock. One off the last by more than a heartbeat interval is a
    /// step of Redis's clock: the reaper holds off for a heartbeat timeout, as every heartbeat's
    /// age is wrong until all workers beat again.
    func noteRedisClock(_ redisMilliseconds: Int64, sentAt: ContinuousClock.Instant) {
        let step = membership.withLockedValue {
            $0.redisClock.observe(
                redisMicroseconds: redisMilliseconds * 1000,
                sentAt: sentAt,
                answeredAt: .now,
                tolerance: heartbeatInterval
            )
        }
        guard let step else { return }
        noteClockStep()
        logger.warning(
            "Redis's clock stepped; not reaping other workers for a heartbeat timeout",
            metadata: ["stepMs": "\(step / 1000)"]
        )
    }

    /// After a step of Redis's clock: the reaper holds off for a heartbeat timeout (every
    /// heartbeat's age is wrong until all workers beat again), and the retries waiting are moved
    /// to pending (their due times were set by the clock from before).
    func noteClockStep() {
        health.disturbed()
        retriesDueNow.withLockedValue { $0 = true }
    }
}
