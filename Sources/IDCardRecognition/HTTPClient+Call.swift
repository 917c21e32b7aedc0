import AsyncHTTPClient
import NIOCore
import NIOHTTP1

extension HTTPClient {
    /// One request whose whole answer, head and body, must arrive within `timeout` and be at most
    /// `maxBytes` long. Anything short of an answer is a retryable ``RecognitionFailure`` naming
    /// `what` was called, `tooLarge` past `maxBytes`, or `CancellationError`. `sent` runs, on the
    /// client's event loop, once the request's head has been written.
    ///
    /// Through the client's future-based API for two reasons: its deadline covers the body (the
    /// async API's ends with the head, so a server dripping a byte a second would hold a job
    /// forever), and it costs less per call (no task and body sequence per request: 212 → 150 µs
    /// of worker CPU per job in `scripts/benchmark`).
    func call(
        _ method: HTTPMethod,
        url: String,
        headers: HTTPHeaders = [:],
        body: Body? = nil,
        timeout: Double,
        maxBytes: Int,
        calling what: String,
        tooLarge: RecognitionFailure,
        sent: (@Sendable () -> Void)? = nil
    ) async throws -> Response {
        let request: Request
        do {
            request = try Request(url: url, method: method, headers: headers, body: body)
        } catch {
            throw RecognitionFailure.transport(error, calling: what)
        }
        let task = execute(
            request: request,
            delegate: SendReportingAccumulator(request: request, maxBodySize: maxBytes, sent: sent),
            deadline: .now() + .milliseconds(Int64(timeout * 1000))
        )
        do {
            return try await withTaskCancellationHandler {
                try await task.futureResult.get()
            } onCancel: {
                task.cancel()
            }
        } catch is ResponseAccumulator.ResponseTooBigError {
            throw tooLarge
        } catch {
            // `Task` alone is HTTPClient's own task type here.
            if error is CancellationError || _Concurrency.Task.isCancelled { throw CancellationError() }
            throw RecognitionFailure.transport(error, calling: what)
        }
    }
}

extension HTTPClient.Response {
    var bodyBytes: ByteBuffer { body ?? ByteBuffer() }
}
