/// Where one API client's limits live in Redis: `P:{client:<name>}:…`, in a hash slot of the
/// client's own, so that with Redis Cluster the limiter's script touches one slot whatever queue
/// the client's jobs go to.
public struct ClientKeys: Sendable, Equatable {
    /// STRING: the client's request schedule (GCRA's theoretical arrival time, µs, Redis clock).
    public let requests: String
    /// HASH: `period` (the quota period now counted) and `count` (jobs charged in it).
    public let usage: String
    /// A key no script touches, in the same slot.
    let absent: String
    private let base: String

    /// - Parameter client: the client's name from the keys file (`A-Za-z0-9_-`).
    public init(prefix: String, client: String) {
        base = "\(prefix):{client:\(client)}:"
        requests = base + "requests"
        usage = base + "usage"
        absent = base + "none"
    }

    /// STRING: set once the job `id` was charged to the client, for as long as its result lives, so
    /// a retry of the same request (after a timeout, or while its job still runs) is not charged again.
    public func charged(_ id: String) -> String { base + "charged:" + id }
}
