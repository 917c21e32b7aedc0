/// What went wrong talking to Redis, and whether the connection is still usable.
public enum RedisError: Error, Sendable, CustomStringConvertible {
    /// Could not connect or the connection broke: Redis is down or unreachable. Retry later.
    case connection(String)
    /// Redis answered with an error reply (wrong type, script error, NOAUTH, ...).
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

    /// True when retrying on a fresh connection may succeed.
    public var isConnectionProblem: Bool {
        switch self {
        case .connection: true
        case .server(let message): message.hasPrefix("LOADING") || message.hasPrefix("MASTERDOWN") || message.hasPrefix("BUSY")
        default: false
        }
    }
}
