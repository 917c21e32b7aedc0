import AsyncHTTPClient
import NIOCore

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

extension HTTPClient {
    /// One recognizer call: its status and at most `maxBytes` of answer. Anything short of an
    /// answer is a retryable ``RecognitionFailure`` naming `what` was called, or `CancellationError`.
    func recognizerCall(_ request: HTTPClientRequest, timeout: Double, maxBytes: Int, calling what: String) async throws -> (status: UInt, body: ByteBuffer) {
        do {
            let response = try await execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            return (response.status.code, try await response.body.collect(upTo: maxBytes))
        } catch let error as CancellationError {
            throw error
        } catch is NIOTooManyBytesError {
            throw RecognitionFailure.unavailable("the answer of \(what) is larger than \(maxBytes) bytes")
        } catch {
            // `Task` alone is HTTPClient's own task type here.
            if _Concurrency.Task.isCancelled { throw CancellationError() }
            throw RecognitionFailure.transport(error, calling: what)
        }
    }
}
