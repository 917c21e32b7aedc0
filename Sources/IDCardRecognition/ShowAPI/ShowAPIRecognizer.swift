import Foundation
import IDCardContract
import NIOCore
import NIOHTTP1

/// The paid 1429-1 ID-card API of ShowAPI (万维易源).
public struct ShowAPIRecognizer: Recognizer {
    public let provider = "showapi"
    public let configuration: ShowAPIConfiguration
    private let endpoint: EndpointClient
    private let urlGuard: URLGuard
    /// The URL's path and query with `appKey=...` added, made once; each call only adds its body.
    private let target: String
    private static let headers: HTTPHeaders = [
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
    ]
    private static let calling = "the 1429-1 API"

    /// - Parameters:
    ///   - group: the event loops of the API's connections; one thread carries thousands of calls a second.
    ///   - urlGuard: checks an `imgUrl` before the API is paid to fetch it.
    /// - Throws: ``EndpointError`` when the URL or the CA file is unusable.
    public init(
        configuration: ShowAPIConfiguration,
        group: any EventLoopGroup,
        urlGuard: URLGuard = URLGuard()
    ) throws(EndpointError) {
        self.configuration = configuration
        self.urlGuard = urlGuard
        endpoint = try EndpointClient(
            url: configuration.url,
            configuration: .init(
                connectTimeout: .milliseconds(Int64(ShowAPIConfiguration.connectTimeout * 1000)),
                caFile: configuration.caFile
            ),
            group: group
        )
        let separator = endpoint.target.contains("?") ? "&" : "?"
        target = endpoint.target + separator + "appKey=" + FormEncoding.escape(configuration.appKey)
    }

    public func recognize(_ request: RecognitionRequest) async throws -> Recognition {
        if case .url(let url) = request.image { try await urlGuard.check(url) }
        let form = formBody(for: request)
        let answer: EndpointClient.Answer
        do {
            answer = try await endpoint.post(
                target,
                headers: Self.headers,
                body: form.chunks(),
                length: form.length,
                timeout: .milliseconds(Int64(configuration.timeout * 1000)),
                maxBytes: configuration.maxResponseBytes,
                sent: request.sent
            )
        } catch let delivered as DeliveredWithoutAnswer {
            if Task.isCancelled { throw CancellationError() }
            if delivered.cause as? EndpointError == .answerTooLarge {
                throw RecognitionFailure.unanswered(
                    "the answer of the 1429-1 API is larger than \(configuration.maxResponseBytes) bytes"
                )
            }
            throw RecognitionFailure.transport(delivered.cause, calling: Self.calling, delivered: true)
        } catch {
            if error is CancellationError || Task.isCancelled { throw CancellationError() }
            throw RecognitionFailure.transport(error, calling: Self.calling)
        }
        return try ShowAPIResponse.interpret(
            status: answer.status,
            body: Data(answer.body.readableBytesView),
            request: request
        )
    }

    /// Closes the API's idle connections.
    public func shutdown() async {
        await endpoint.shutdown()
    }

    private func formBody(for request: RecognitionRequest) -> FormEncoding {
        var form = FormEncoding()
        switch request.image {
        case .base64(let base64, _): form.append("imgData", base64)
        case .url(let url): form.append("imgUrl", url)
        }
        if request.side != .detect { form.append("type", request.side.rawValue) }
        if request.needQuality { form.append("needQuality", "1") }
        return form
    }
}
