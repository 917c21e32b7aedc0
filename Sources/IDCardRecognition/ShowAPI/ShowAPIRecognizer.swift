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

    /// - Parameter httpClient: shared by the process; its connection pool keeps calls on warm connections.
    public init(configuration: ShowAPIConfiguration, httpClient: HTTPClient) {
        self.configuration = configuration
        self.httpClient = httpClient
    }

    public func recognize(_ request: RecognitionRequest) async throws -> Recognition {
        var http = HTTPClientRequest(url: endpoint)
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        http.headers.add(name: "Accept", value: "application/json")
        let form = formBody(for: request)
        let length = form.length
        // Large bodies are escaped while they are sent; small ones go as one buffer, which the
        // client may send again on a fresh connection if a pooled one turns out closed.
        http.body = length > FormEncoding.chunkSize ? .stream(form, length: .known(Int64(length))) : .bytes(ByteBuffer(bytes: form.bytes))

        let (status, bytes) = try await httpClient.recognizerCall(
            http, timeout: configuration.timeout, maxBytes: configuration.maxResponseBytes, calling: "the 1429-1 API"
        )
        return try ShowAPIResponse.interpret(status: status, body: Data(bytes.readableBytesView), request: request)
    }

    /// `url?appKey=...`, keeping any query the configured URL already has.
    private var endpoint: String {
        let separator = configuration.url.contains("?") ? "&" : "?"
        return configuration.url + separator + "appKey=" + FormEncoding.escape(configuration.appKey)
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
