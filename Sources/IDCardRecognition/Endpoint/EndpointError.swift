/// Why ``EndpointClient`` could not be made, or a call through it got no answer.
public enum EndpointError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL is not `http://` or `https://` with a host: fix the configured endpoint.
    case invalidURL
    /// The trusted certificates could not be loaded: check the CA file named in the configuration.
    case trustRoots(path: String)
    /// No connection within the connect timeout: the endpoint is unreachable or overloaded.
    case connectTimeout
    /// The whole answer did not arrive within the call's timeout.
    case deadlineExceeded
    /// The server closed the connection before its answer was complete.
    case closedBeforeAnswer
    /// The answer is longer than the call allows.
    case answerTooLarge
    /// The client was shut down.
    case shutDown

    public var description: String {
        switch self {
        case .invalidURL: "the endpoint must be an http:// or https:// URL with a host"
        case .trustRoots(let path): "cannot load trusted CA certificates from \(path)"
        case .connectTimeout: "connect timeout"
        case .deadlineExceeded: "timeout waiting for the answer"
        case .closedBeforeAnswer: "the server closed the connection"
        case .answerTooLarge: "the answer is too large"
        case .shutDown: "the client is shut down"
        }
    }
}

/// A call whose request was written whole failed before a complete answer (`cause`: the deadline,
/// a lost connection, cancellation, the size cap): the server may have acted on it, and a paid API
/// may have billed it. Never sent again by the client; a retry is the caller's decision.
public struct DeliveredWithoutAnswer: Error, CustomStringConvertible {
    public var cause: any Error

    public init(cause: any Error) { self.cause = cause }

    public var description: String { "the request was sent and no answer came: \(cause)" }
}
