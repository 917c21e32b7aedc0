import IDCardContract

/// A step was refused because its worker's registration is over: the reaper has given the
/// worker's jobs back to `pending` (it presumed the worker dead). Register again
/// (``JobQueue/register(worker:)``) and drop the jobs held under the old registration.
public struct WorkerFencedError: Error, Sendable, Equatable, CustomStringConvertible {
    public let registration: WorkerRegistration

    public init(_ registration: WorkerRegistration) { self.registration = registration }

    public var description: String {
        "worker \(registration) was presumed dead and its jobs given back; it must register again"
    }
}
