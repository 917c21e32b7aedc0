import Crypto
import Foundation
import IDCardContract

/// The fleet's housekeeping, run by every worker beside its jobs.
extension JobQueue {
    /// How long a worker may miss heartbeats before it counts as dead (seconds).
    public static let defaultHeartbeatTimeout: Double = 15
    /// Jobs lost with a dying worker this many times are dead-lettered as `worker_lost`.
    public static let defaultMaxLosses = 3
    /// How long a job's losses are remembered.
    static let lostKeyTTLSeconds = 7 * 24 * 3600

    /// A registration just made.
    public struct Registered: Sendable {
        public var registration: WorkerRegistration
        /// Jobs a gone process of the same id had left in its list, given back to `pending`.
        public var recovered: Int
        /// Jobs among those lost too often: now in this worker's list, for it to dead-letter as `worker_lost`.
        public var setAside: [ReceivedJob]
        /// Redis's clock when it registered (ms since the Unix epoch).
        public var redisMilliseconds: Int64
    }

    /// Registers `worker` under a new epoch, before it takes any job: anything a previous process
    /// of the same id left in its processing list is recovered (losses counted, as the reaper does),
    /// and any earlier registration of the id is over.
    public func register(worker: String, maxLosses: Int = JobQueue.defaultMaxLosses) async throws -> Registered {
        let reply = try await runScript(
            QueueScripts.register,
            keys: [
                "workers": keys.workers, "epochs": keys.epochs, "epochCounter": keys.epochCounter,
                "processing": keys.processing(worker), "pending": keys.pending, "paused": keys.paused,
                "lost": keys.lost, "lostAt": keys.lostAt,
            ],
            arguments: [
                "worker": .string(worker), "maxLosses": .int(maxLosses), "lostTTL": .int(Self.lostKeyTTLSeconds),
            ]
        )
        guard let parts = reply.array, parts.count == 5, let epoch = parts[0].int, let recovered = parts[1].int,
            let redisMilliseconds = Self.milliseconds(seconds: parts[3], microseconds: parts[4])
        else { throw RedisError.unexpectedReply("register returned \(reply)") }
        let registration = WorkerRegistration(worker: worker, epoch: epoch)
        let setAside = (parts[2].array ?? []).compactMap {
            $0.data.map { ReceivedJob(element: $0, holder: registration) }
        }
        return Registered(
            registration: registration,
            recovered: recovered,
            setAside: setAside,
            redisMilliseconds: redisMilliseconds
        )
    }

    /// A heartbeat's answer.
    public struct Heartbeat: Sendable {
        /// False when the registration is over (the reaper presumed the worker dead): register again.
        public var isRegistered: Bool
        /// Redis's clock when it beat (ms since the Unix epoch).
        public var redisMilliseconds: Int64
    }

    /// Records that the worker is alive, unless its registration is over; with `info`, what it
    /// says of itself for the dashboard's list of workers (``WorkerInfo``).
    @discardableResult
    public func heartbeat(
        _ registration: WorkerRegistration,
        pausedReason: String? = nil,
        info: WorkerInfo? = nil
    ) async throws -> Heartbeat {
        let reply = try await runScript(
            QueueScripts.heartbeat,
            keys: [
                "workers": keys.workers, "paused": keys.paused, "epochs": keys.epochs, "workerInfo": keys.workerInfo,
            ],
            arguments: [
                "worker": .string(registration.worker), "pausedBecause": .string(pausedReason ?? ""),
                "epoch": .int(registration.epoch), "info": .data(info?.encoded() ?? Data()),
            ]
        )
        guard let parts = reply.array, parts.count == 3, let beating = parts[0].int,
            let redisMilliseconds = Self.milliseconds(seconds: parts[1], microseconds: parts[2])
        else { throw RedisError.unexpectedReply("heartbeat returned \(reply)") }
        return Heartbeat(isRegistered: beating == 1, redisMilliseconds: redisMilliseconds)
    }

    /// What a reaper's pass did.
    public enum Reaping: Sendable {
        /// `workers` dead workers' jobs went back to `pending`; `setAside` (lost too often) are in
        /// the reaper's own list, for it to dead-letter as `worker_lost`.
        case reaped(workers: Int, setAside: [ReceivedJob])
        /// Redis's clock is not where the reaper expected it (it stepped): nothing was reaped.
        case clockStepped(redisMilliseconds: Int64)
        /// The reaper's own registration is over: nothing was reaped.
        case fenced
    }

    /// Returns the jobs of dead workers to `pending` and ends their registrations: which workers
    /// are due first (``QueueScripts/staleWorkers``), then, when any is, their jobs
    /// (``QueueScripts/reap``), each worker looked at again there.
    /// - Parameters:
    ///   - expectedRedisMilliseconds: where the reaper's own clock says Redis's should be now;
    ///     `nil` when it has no reference yet. Off by more than `clockTolerance`, nothing is reaped.
    public func reap(
        _ registration: WorkerRegistration,
        heartbeatTimeout: Double = JobQueue.defaultHeartbeatTimeout,
        maxLosses: Int = JobQueue.defaultMaxLosses,
        expectedRedisMilliseconds: Int64? = nil,
        clockTolerance: Duration = .seconds(5)
    ) async throws -> Reaping {
        let expectedNowMs = RedisArgument.string(String(expectedRedisMilliseconds ?? 0))
        let toleranceMs = RedisArgument.int(Int(clockTolerance / .milliseconds(1)))
        let heartbeatTimeoutMs = RedisArgument.int(Int(heartbeatTimeout * 1000))
        let due = try await runScript(
            QueueScripts.staleWorkers,
            keys: ["workers": keys.workers, "epochs": keys.epochs],
            arguments: [
                "heartbeatTimeoutMs": heartbeatTimeoutMs, "worker": .string(registration.worker),
                "epoch": .int(registration.epoch), "expectedNowMs": expectedNowMs, "toleranceMs": toleranceMs,
            ]
        )
        guard let first = due.array, let status = first.first?.string else {
            throw RedisError.unexpectedReply("staleWorkers returned \(due)")
        }
        if status != "ok" { return try Self.reaping(due, registration: registration) }
        let workers = (first.count == 2 ? first[1].array ?? [] : []).compactMap(\.string)
        if workers.isEmpty { return .reaped(workers: 0, setAside: []) }
        let reply = try await runScript(
            QueueScripts.reap,
            keys: [
                "workers": keys.workers, "pending": keys.pending, "processing": keys.processing(registration.worker),
                "paused": keys.paused, "epochs": keys.epochs, "lost": keys.lost, "lostAt": keys.lostAt,
                "workerInfo": keys.workerInfo,
            ],
            restKeys: workers.map(keys.processing),
            arguments: [
                "heartbeatTimeoutMs": heartbeatTimeoutMs, "maxLosses": .int(maxLosses),
                "lostTTL": .int(Self.lostKeyTTLSeconds), "worker": .string(registration.worker),
                "epoch": .int(registration.epoch), "expectedNowMs": expectedNowMs, "toleranceMs": toleranceMs,
            ],
            rest: workers.map(RedisArgument.string)
        )
        return try Self.reaping(reply, registration: registration)
    }

    /// What `staleWorkers` or `reap` answered, unless it is the list of workers due.
    private static func reaping(_ reply: RedisValue, registration: WorkerRegistration) throws -> Reaping {
        guard let parts = reply.array, let status = parts.first?.string else {
            throw RedisError.unexpectedReply("reap returned \(reply)")
        }
        switch status {
        case "ok" where parts.count == 3:
            return .reaped(
                workers: parts[1].int ?? 0,
                setAside: (parts[2].array ?? []).compactMap {
                    $0.data.map { ReceivedJob(element: $0, holder: registration) }
                }
            )
        case "clock" where parts.count == 2: return .clockStepped(redisMilliseconds: Int64(parts[1].int ?? 0))
        case "fenced": return .fenced
        default: throw RedisError.unexpectedReply("reap returned \(reply)")
        }
    }

    /// Moves up to `limit` retries whose time has come back to `pending`, and any due more than
    /// `longestDelay` from now (Redis's clock stepped back since they were scheduled). Returns how many moved.
    @discardableResult
    public func promoteDueRetries(limit: Int = 500, longestDelay: Duration = .seconds(3600)) async throws -> Int {
        try await runScript(
            QueueScripts.promote,
            keys: ["delayed": keys.delayed, "pending": keys.pending],
            arguments: [
                "mostMoved": .int(limit), "memberPrefixLength": .int(Self.delayedMemberPrefixLength),
                "longestDelayMs": .int(Int(longestDelay / .milliseconds(1))),
            ]
        ).int ?? 0
    }

    /// The fingerprint (``fingerprint(of:)``) of each job in `worker`'s processing list.
    public func processingFingerprints(worker: String) async throws -> [String] {
        let reply = try await runScript(
            QueueScripts.processingFingerprints,
            keys: ["processing": keys.processing(worker)]
        )
        return (reply.array ?? []).compactMap(\.string)
    }

    /// Gives back to `pending` up to `count` jobs of each fingerprint still in the worker's
    /// processing list; nothing once its registration is over. Returns how many moved.
    @discardableResult
    public func giveBack(_ registration: WorkerRegistration, fingerprints: [String: Int]) async throws -> Int {
        guard !fingerprints.isEmpty else { return 0 }
        return try await runScript(
            QueueScripts.giveBackByFingerprint,
            keys: ["processing": keys.processing(registration.worker), "pending": keys.pending, "epochs": keys.epochs],
            arguments: ["worker": .string(registration.worker), "epoch": .int(registration.epoch)],
            rest: fingerprints.flatMap { [RedisArgument.string($0.key), .int($0.value)] }
        ).int ?? 0
    }

    /// Leaves the fleet on a clean shutdown: anything still held goes back to `pending`.
    public func deregister(_ registration: WorkerRegistration) async throws {
        _ = try await runScript(
            QueueScripts.deregister,
            keys: [
                "workers": keys.workers, "processing": keys.processing(registration.worker), "pending": keys.pending,
                "paused": keys.paused, "epochs": keys.epochs, "workerInfo": keys.workerInfo,
            ],
            arguments: ["worker": .string(registration.worker), "epoch": .int(registration.epoch)]
        )
    }

    /// Names a list element by its length and first and last 8 KiB, as the scripts do: how lost
    /// jobs are counted and held jobs matched without hashing megabytes inside Redis.
    public static func fingerprint(of element: Data) -> String {
        var hash = Insecure.SHA1()
        hash.update(data: Data("\(element.count):".utf8))
        hash.update(data: element.prefix(8192))
        hash.update(data: element.suffix(8192))
        return hash.finalize().lowercaseHex
    }

    static func milliseconds(seconds: RedisValue, microseconds: RedisValue) -> Int64? {
        guard let seconds = seconds.int, let microseconds = microseconds.int else { return nil }
        return Int64(seconds) * 1000 + Int64(microseconds / 1000)
    }
}
