import AsyncHTTPClient
import Foundation
import IDCardContract
import NIOCore

/// Fetches an `imgUrl` for a recognizer that runs here (the 1429-1 API fetches its own).
///
/// Guards the fleet's network: every hop passes the ``URLGuard`` (redirects are followed by hand
/// for that); the body is capped and the call has a deadline.
public struct ImageFetcher: Sendable {
    public struct Configuration: Sendable {
        /// `IDOCR_ALLOW_PRIVATE_URLS`: development only.
        public var allowPrivateAddresses = false
        public var maxBytes = 4 * 1024 * 1024
        /// Seconds for one hop, body included.
        public var timeout: Double = 15
        public var maxRedirects = 5

        public init(
            allowPrivateAddresses: Bool = false,
            maxBytes: Int = 4 * 1024 * 1024,
            timeout: Double = 15,
            maxRedirects: Int = 5
        ) {
            self.allowPrivateAddresses = allowPrivateAddresses
            self.maxBytes = maxBytes
            self.timeout = timeout
            self.maxRedirects = maxRedirects
        }
    }

    public let configuration: Configuration
    private let httpClient: HTTPClient

    /// - Parameter httpClient: must be made with `redirectConfiguration: .disallow`, so that every
    ///   redirect comes back here to be checked.
    public init(configuration: Configuration, httpClient: HTTPClient) {
        self.configuration = configuration
        self.httpClient = httpClient
    }

    /// The image bytes, or a ``RecognitionFailure``: `url_forbidden`, `image_unreadable`,
    /// `image_too_large` (the job's fault) or unavailable (network, timeout, 5xx: retry).
    public func fetch(_ text: String) async throws -> Data {
        var current = text
        let urlGuard = URLGuard(allowPrivateAddresses: configuration.allowPrivateAddresses)
        for _ in 0...configuration.maxRedirects {
            try await urlGuard.check(current)

            let response = try await httpClient.call(
                .GET,
                url: current,
                headers: ["Accept": "image/*"],
                timeout: configuration.timeout,
                maxBytes: configuration.maxBytes,
                calling: "fetching imgUrl",
                tooLarge: .rejected(
                    JobError(.imageTooLarge, "the image at imgUrl is larger than \(configuration.maxBytes) bytes")
                )
            )
            switch response.status.code {
            case 200..<300:
                let data = Data(response.bodyBytes.readableBytesView)
                guard ImageFormat(sniffing: data) != nil else {
                    throw RecognitionFailure.rejected(
                        JobError(.imageUnreadable, "imgUrl gave no JPEG, PNG, BMP or WebP image")
                    )
                }
                return data
            case 300..<400:
                guard let location = response.headers.first(name: "Location"),
                    let next = URL(string: location, relativeTo: URL(string: current))
                else {
                    throw RecognitionFailure.rejected(
                        JobError(.imageUnreadable, "imgUrl redirected without a usable Location")
                    )
                }
                current = next.absoluteString
            case 408, 429, 500..<600:
                throw RecognitionFailure.unavailable("imgUrl answered HTTP \(response.status.code)")
            default:
                throw RecognitionFailure.rejected(
                    JobError(.imageUnreadable, "imgUrl answered HTTP \(response.status.code)")
                )
            }
        }
        throw RecognitionFailure.rejected(
            JobError(.imageUnreadable, "imgUrl redirected more than \(configuration.maxRedirects) times")
        )
    }
}
