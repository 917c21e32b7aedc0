import IDCardContract

/// What went wrong talking to Redis, and whether the connection is still usable.
///
/// A struct with a ``Code``, like AsyncHTTPClient's `HTTPClientError`: a new kind of failure is a
/// new static member, not a new enum case that would break a user's exhaustive `switch`. Switch
/// over ``code``; ``message`` carries Redis's own words (never a command's arguments).
public struct RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        private init(_ description: String) { self.description = description }

        /// Could not connect or the connection broke: Redis is down or unreachable. Retry later.
        public static let connection = Code("connection")
        /// Redis answered with an error reply (wrong type, script error, NOAUTH, READONLY, ...).
        public static let server = Code("server")
        /// The reply did not have the shape the caller expected.
        public static let unexpectedReply = Code("unexpectedReply")
        /// The client was shut down.
        public static let closed = Code("closed")
    }

    public let code: Code
    /// hiredis's or Redis's text (an error reply starts with its code: `READONLY ...`).
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public static func connection(_ message: String) -> RedisError { RedisError(.connection, message) }
    public static func server(_ message: String) -> RedisError { RedisError(.server, message) }
    public static func unexpectedReply(_ message: String) -> RedisError { RedisError(.unexpectedReply, message) }
    public static let closed = RedisError(.closed, "")
    /// A command queued on a connection left for a new master (``RedisConnection/dropSoon()``)
    /// before it went out: it never reached the old master, so it goes on the new one.
    static let leftUnsent = RedisError(.connection, "the connection was left for a new master")

    public var description: String {
        switch code {
        case .connection: "Redis connection failed: \(message); check IDOCR_REDIS_URL and that Redis is running"
        case .server: "Redis answered with an error: \(message)"
        case .unexpectedReply: "unexpected Redis reply: \(message)"
        case .closed: "the Redis client is closed"
        default: "Redis: \(message)"
        }
    }

    /// Error replies that say "not now" rather than "never": the server cannot take this write (or
    /// any command) at the moment, and the same command will succeed once it can. `READONLY`: a
    /// replica (a demoted master, mid-failover); `MISCONF`: persistence failing with
    /// `stop-writes-on-bgsave-error`; `OOM`: `maxmemory` reached; `LOADING`, `BUSY`, `MASTERDOWN`,
    /// `NOREPLICAS`: the server is busy, loading, or has lost its master or replicas. In a
    /// cluster, `TRYAGAIN`: a script's keys are split by a slot migration under way; `CLUSTERDOWN`:
    /// a master is lost and its replica not yet promoted.
    static let transientReplies = [
        "READONLY", "MISCONF", "OOM", "LOADING", "BUSY", "MASTERDOWN", "NOREPLICAS", "TRYAGAIN", "CLUSTERDOWN",
    ]

    /// True when the same command may succeed later: on a fresh connection, or once the server
    /// accepts writes again. A paid answer must then be kept and written later, never dropped.
    public var isConnectionProblem: Bool {
        switch code {
        case .connection: true
        case .server: Self.transientReplies.contains { message.hasPrefix($0) }
        default: false
        }
    }

    /// True when the server is no master for this connection (`READONLY`): reconnecting finds the
    /// one that is (a new DNS answer, or Sentinel's).
    public var needsReconnect: Bool {
        code == .server && message.hasPrefix("READONLY")
    }

    /// What `/readyz` says while this error lasts.
    public var readinessReason: String {
        code == .server ? "Redis refuses commands: \(message.prefix(160))" : "Redis unreachable"
    }
}
