import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// One POST to a recognizer: its status and at most `maxBytes` of answer. Anything short of an
/// answer is a retryable ``RecognitionFailure`` naming `what` was called, or `CancellationError`.
extension HTTPClient {
    /// A body already in memory (every 1429-1 call with a small image, every RapidOCR call).
    ///
    /// Through the client's future-based API: its async API adds a task and an async body
    /// sequence per request, which cost more than a quarter of a worker's CPU per job
    /// (212 → 154 µs per job in `scripts/benchmark`).
    func recognizerCall(url: String, headers: HTTPHeaders, body: ByteBuffer, timeout: Double, maxBytes: Int, calling what: String) async throws -> (status: UInt, body: ByteBuffer) {
        let request: Request
        do {
            request = try Request(url: url, method: .POST, headers: headers, body: .byteBuffer(body))
        } catch {
            throw RecognitionFailure.transport(error, calling: what)
        }
        let task = execute(
            request: request,
            delegate: ResponseAccumulator(request: request, maxBodySize: maxBytes),
            deadline: .now() + .milliseconds(Int64(timeout * 1000))
        )
        do {
            let response = try await withTaskCancellationHandler {
                try await task.futureResult.get()
            } onCancel: {
                task.cancel()
            }
            return (response.status.code, response.body ?? ByteBuffer())
        } catch is ResponseAccumulator.ResponseTooBigError {
            throw RecognitionFailure.unavailable("the answer of \(what) is larger than \(maxBytes) bytes")
        } catch {
            throw Self.failure(error, calling: what)
        }
    }

    /// A body escaped while it is sent (a large image's form).
    func recognizerCall(_ request: HTTPClientRequest, timeout: Double, maxBytes: Int, calling what: String) async throws -> (status: UInt, body: ByteBuffer) {
        do {
            let response = try await execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            return (response.status.code, try await response.body.collect(upTo: maxBytes))
        } catch is NIOTooManyBytesError {
            throw RecognitionFailure.unavailable("the answer of \(what) is larger than \(maxBytes) bytes")
        } catch {
            throw Self.failure(error, calling: what)
        }
    }

    private static func failure(_ error: any Error, calling what: String) -> any Error {
        // `Task` alone is HTTPClient's own task type here.
        if error is CancellationError || _Concurrency.Task.isCancelled { return CancellationError() }
        return RecognitionFailure.transport(error, calling: what)
    }
}
