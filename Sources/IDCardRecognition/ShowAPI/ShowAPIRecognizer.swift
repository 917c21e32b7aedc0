import AsyncHTTPClient
import Foundation
import IDCardQueue
import NIOCore
import NIOHTTP1

/// The paid 1429-1 ID-card API of ShowAPI (万维易源).
public struct ShowAPIRecognizer: Recognizer {
    public let provider = "showapi"
    public let configuration: ShowAPIConfiguration
    private let httpClient: HTTPClient
    private let urlGuard: URLGuard
    /// A POST to `url?appKey=...` (keeping any query the configured URL already has), made once;
    /// each call only adds its body.
    private let apiRequest: Result<HTTPClient.Request, RecognitionFailure>
    private static let headers: HTTPHeaders = [
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
    ]
    private static let calling = "the 1429-1 API"

    /// - Parameters:
    ///   - httpClient: shared by the process; its connection pool keeps calls on warm connections.
    ///   - urlGuard: checks an `imgUrl` before the API is paid to fetch it.
    public init(configuration: ShowAPIConfiguration, httpClient: HTTPClient, urlGuard: URLGuard = URLGuard()) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.urlGuard = urlGuard
        let separator = configuration.url.contains("?") ? "&" : "?"
        let endpoint = configuration.url + separator + "appKey=" + FormEncoding.escape(configuration.appKey)
        self.apiRequest = Result { try HTTPClient.Request(url: endpoint, method: .POST, headers: Self.headers) }
            .mapError { RecognitionFailure.transport($0, calling: Self.calling) }
    }

    public func recognize(_ request: RecognitionRequest) async throws -> Recognition {
        if case .url(let url) = request.image { try await urlGuard.check(url) }
        let form = formBody(for: request)
        // Large bodies are escaped while they are sent; small ones go as one buffer.
        let length = form.length
        let body: HTTPClient.Body = length > FormEncoding.chunkSize ? form.streamedBody(length: length) : .byteBuffer(form.buffer(length: length))
        var call = try apiRequest.get()
        call.body = body
        let answer = try await httpClient.call(
            call, timeout: configuration.timeout, maxBytes: configuration.maxResponseBytes, calling: Self.calling, tooLarge: .unavailable("the answer of the 1429-1 API is larger than \(configuration.maxResponseBytes) bytes"),
            sent: request.sent
        )
        return try ShowAPIResponse.interpret(status: answer.status.code, body: Data(answer.bodyBytes.readableBytesView), request: request)
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
