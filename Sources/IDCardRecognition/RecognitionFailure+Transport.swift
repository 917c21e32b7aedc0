import AsyncHTTPClient

extension RecognitionFailure {
    /// A call that failed before an answer: worth retrying. Names the error's kind, never its text:
    /// AsyncHTTPClient's messages may echo the URL, and with it an appKey or a job's imgUrl.
    static func transport(_ error: any Error, calling what: String) -> RecognitionFailure {
        let kind: String
        switch error as? HTTPClientError {
        case .connectTimeout?: kind = "connect timeout"
        case .readTimeout?, .deadlineExceeded?: kind = "timeout waiting for the answer"
        case .remoteConnectionClosed?: kind = "the server closed the connection"
        case .some: kind = "HTTP client error"
        case nil: kind = String(describing: type(of: error))
        }
        return .unavailable("\(what) failed: \(kind)")
    }
}
