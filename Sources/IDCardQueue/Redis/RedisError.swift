import IDCardContract

/// What went wrong talking to Redis, and whether the connection is still usable.
public enum RedisError: Error, Sendable, CustomStringConvertible {
    /// Could not connect or the connection broke: Redis is down or unreachable. Retry later.
    case connection(String)
    /// Redis answered with an error reply (wrong type, script error, NOAUTH, READONLY, ...).
    case server(String)
    /// The reply did not have the shape the caller expected.
    case unexpectedReply(String)
    /// The client was shut down.
    case closed

    public var description: String {
        switch self {
        case .connection(let message): "Redis connection failed: \(message); check IDOCR_REDIS_URL and that Redis is running"
        case .server(let message): "Redis answered with an error: \(message)"
        case .unexpectedReply(let message): "unexpected Redis reply: \(message)"
        case .closed: "the Redis client is closed"
        }
    }

    /// Error replies that say "not now" rather than "never": the server cannot take this write (or
    /// any command) at the moment, and the same command will succeed once it can. `READONLY`: a
    /// replica (a demoted master, mid-failover); `MISCONF`: persistence failing with
    /// `stop-writes-on-bgsave-error`; `OOM`: `maxmemory` reached; `LOADING`, `BUSY`, `MASTERDOWN`,
    /// `NOREPLICAS`, `TRYAGAIN`: the server is busy, loading, or has lost its master or replicas.
    static let transientReplies = ["READONLY", "MISCONF", "OOM", "LOADING", "BUSY", "MASTERDOWN", "NOREPLICAS", "TRYAGAIN"]

    /// True when the same command may succeed later: on a fresh connection, or once the server
    /// accepts writes again. A paid answer must then be kept and written later, never dropped.
    public var isConnectionProblem: Bool {
        switch self {
        case .connection: true
        case .server(let message): Self.transientReplies.contains { message.hasPrefix($0) }
        default: false
        }
    }

    /// True when the server is no master for this connection (`READONLY`): reconnecting finds the
    /// one that is (a new DNS answer, or Sentinel's).
    public var needsReconnect: Bool {
        if case .server(let message) = self { return message.hasPrefix("READONLY") }
        return false
    }

    /// What `/readyz` says while this error lasts.
    public var readinessReason: String {
        switch self {
        case .server(let message): "Redis refuses commands: \(message.prefix(160))"
        default: "Redis unreachable"
        }
    }
}
