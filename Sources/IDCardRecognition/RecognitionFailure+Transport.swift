import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

extension RecognitionFailure {
    /// A call that failed before an answer: worth retrying. Names the error's kind, never its text:
    /// HTTP clients' messages may echo the URL, and with it an appKey or a job's imgUrl.
    /// - Parameter delivered: the request had been written whole (``unanswered(_:)``).
    static func transport(_ error: any Error, calling what: String, delivered: Bool = false) -> RecognitionFailure {
        let message = "\(what) failed: \(kind(of: error))"
        return delivered ? .unanswered(message) : .unavailable(message)
    }

    private static func kind(of error: any Error) -> String {
        switch error {
        case let error as HTTPClientError:
            switch error {
            case .connectTimeout: EndpointError.connectTimeout.description
            case .readTimeout, .deadlineExceeded: EndpointError.deadlineExceeded.description
            case .remoteConnectionClosed: EndpointError.closedBeforeAnswer.description
            default: "HTTP client error"
            }
        case let error as EndpointError: error.description
        case is NIOSSLError, is NIOSSLExtraError: "TLS failed (is the server's certificate trusted and for this host?)"
        case is HTTPParserError: "the answer is not valid HTTP"
        case is IOError, is NIOConnectionError: "connection failed"
        default: String(describing: type(of: error))
        }
    }
}
