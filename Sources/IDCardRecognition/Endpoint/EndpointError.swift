/// Why ``EndpointClient`` could not be made, or a call through it got no answer.
///
/// A struct with a ``Code``, like AsyncHTTPClient's `HTTPClientError`: a new kind of failure is a
/// new static member, not a new enum case that would break a user's exhaustive `switch`. Compare
/// with `==` (`error == .deadlineExceeded`) or switch over ``code``.
public struct EndpointError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        private init(_ description: String) { self.description = description }

        public static let invalidURL = Code("invalidURL")
        public static let trustRoots = Code("trustRoots")
        public static let connectTimeout = Code("connectTimeout")
        public static let deadlineExceeded = Code("deadlineExceeded")
        public static let closedBeforeAnswer = Code("closedBeforeAnswer")
        public static let answerTooLarge = Code("answerTooLarge")
        public static let shutDown = Code("shutDown")
    }

    public let code: Code
    /// What went wrong and, where it helps, what to do.
    public let description: String

    private init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    /// The URL is not `http://` or `https://` with a host: fix the configured endpoint.
    public static let invalidURL = EndpointError(
        .invalidURL,
        "the endpoint must be an http:// or https:// URL with a host"
    )
    /// The trusted certificates could not be loaded: check the CA file named in the configuration.
    public static func trustRoots(path: String) -> EndpointError {
        EndpointError(.trustRoots, "cannot load trusted CA certificates from \(path)")
    }
    /// No connection within the connect timeout: the endpoint is unreachable or overloaded.
    public static let connectTimeout = EndpointError(.connectTimeout, "connect timeout")
    /// The whole answer did not arrive within the call's timeout.
    public static let deadlineExceeded = EndpointError(.deadlineExceeded, "timeout waiting for the answer")
    /// The server closed the connection before its answer was complete.
    public static let closedBeforeAnswer = EndpointError(.closedBeforeAnswer, "the server closed the connection")
    /// The answer is longer than the call allows.
    public static let answerTooLarge = EndpointError(.answerTooLarge, "the answer is too large")
    /// The client was shut down.
    public static let shutDown = EndpointError(.shutDown, "the client is shut down")
}

/// A call whose request was written whole failed before a complete answer (`cause`: the deadline,
/// a lost connection, cancellation, the size cap): the server may have acted on it, and a paid API
/// may have billed it. Never sent again by the client; a retry is the caller's decision.
public struct DeliveredWithoutAnswer: Error, CustomStringConvertible {
    public var cause: any Error

    public init(cause: any Error) { self.cause = cause }

    public var description: String { "the request was sent and no answer came: \(cause)" }
}
