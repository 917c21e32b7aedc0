import Hummingbird
import NIOCore

/// A request body read whole, within a size and a time: a client that sends too much gets 413
/// before more than the limit is held in memory, one that sends too slowly (or never ends) gets
/// 408 when the deadline passes, however steadily its bytes trickle in.
enum BodyReader {
    enum Refusal: Error, Equatable {
        case tooLarge
        case tooSlow
    }

    static func collect(
        _ request: Request,
        upTo maxBytes: Int,
        within timeout: Duration
    ) async throws(Refusal) -> ByteBuffer {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > maxBytes {
            throw .tooLarge
        }
        let body = request.body
        let outcome: Result<ByteBuffer, Refusal>? = await withTaskGroup(of: Result<ByteBuffer, Refusal>?.self) {
            group in
            group.addTask {
                do {
                    return .success(try await body.collect(upTo: maxBytes))
                } catch is NIOTooManyBytesError {
                    return .failure(.tooLarge)
                } catch {
                    // Cancelled by the deadline, or the connection went away.
                    return .failure(.tooSlow)
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return Task.isCancelled ? nil : .failure(.tooSlow)
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        switch outcome {
        case .success(let buffer)?: return buffer
        case .failure(let refusal)?: throw refusal
        case nil: throw .tooSlow
        }
    }
}
