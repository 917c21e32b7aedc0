import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// AsyncHTTPClient's `ResponseAccumulator`, telling its caller when the request's head has been
/// written: when the call really left, which can be well after the worker let go of it (a new
/// connection, a starved thread). Not the body's end: a large image's upload time is the same
/// for every call, not lateness.
final class SendReportingAccumulator: HTTPClientResponseDelegate, Sendable {
    typealias Response = HTTPClient.Response

    private let accumulator: ResponseAccumulator
    private let sent: (@Sendable () -> Void)?

    init(request: HTTPClient.Request, maxBodySize: Int, sent: (@Sendable () -> Void)?) {
        accumulator = ResponseAccumulator(request: request, maxBodySize: maxBodySize)
        self.sent = sent
    }

    func didSendRequestHead(task: HTTPClient.Task<Response>, _ head: HTTPRequestHead) {
        sent?()
    }

    func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        accumulator.didReceiveHead(task: task, head)
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        accumulator.didReceiveBodyPart(task: task, buffer)
    }

    func didReceiveError(task: HTTPClient.Task<Response>, _ error: Error) {
        accumulator.didReceiveError(task: task, error)
    }

    func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
        try accumulator.didFinishRequest(task: task)
    }
}
