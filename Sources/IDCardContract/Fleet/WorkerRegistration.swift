/// A worker process's membership of the fleet: its id and the epoch of its current registration.
///
/// Every step that moves a job into, within or out of a processing list (take, gate, finish,
/// retry, give back) names the registration the job was taken under, and Redis refuses it once that
/// registration is over: after the reaper gave the worker's jobs back (it missed heartbeats: a
/// frozen VM, a SIGSTOP, a partition), nothing it does can strand a job in a list nobody watches
/// or end a job another worker now holds. The worker learns it at its next step and registers anew.
public struct WorkerRegistration: Sendable, Hashable, CustomStringConvertible {
    public let worker: String
    /// Handed out by Redis, increasing; a registration of the same worker id gets a new one.
    public let epoch: Int

    public init(worker: String, epoch: Int) {
        self.worker = worker
        self.epoch = epoch
    }

    public var description: String { "\(worker) (epoch \(epoch))" }
}
