import AsyncHTTPClient
import Foundation
import IDCardQueue
import NIOCore
import NIOPosix

/// Fetches an `imgUrl` for a recognizer that runs here (the 1429-1 API fetches its own).
///
/// Guards the fleet's network: http(s) only; every address the host resolves to must be public
/// (no loopback, private, link-local or metadata address) unless `allowPrivateAddresses`; redirects
/// are followed by hand so each hop is checked again; the body is capped and the call has a deadline.
/// Known limit: the HTTP client resolves the name once more when connecting, so a DNS answer that
/// changes between the two lookups (rebinding) is not caught; a resolver pinned per hop would close it.
public struct ImageFetcher: Sendable {
    public struct Configuration: Sendable {
        /// `IDOCR_ALLOW_PRIVATE_URLS`: development only.
        public var allowPrivateAddresses = false
        public var maxBytes = 4 * 1024 * 1024
        /// Seconds for one hop, body included.
        public var timeout: Double = 15
        public var maxRedirects = 5

        public init(allowPrivateAddresses: Bool = false, maxBytes: Int = 4 * 1024 * 1024, timeout: Double = 15, maxRedirects: Int = 5) {
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
        for _ in 0...configuration.maxRedirects {
            guard let url = URL(string: current), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
                let host = url.host, !host.isEmpty
            else { throw RecognitionFailure.rejected(JobError(.urlForbidden, "imgUrl must be an http or https URL")) }
            try await checkHost(host)

            var request = HTTPClientRequest(url: current)
            request.headers.add(name: "Accept", value: "image/*")
            let response: HTTPClientResponse
            do {
                response = try await httpClient.execute(request, timeout: .milliseconds(Int64(configuration.timeout * 1000)))
            } catch {
                if Task.isCancelled { throw CancellationError() }
                throw RecognitionFailure.transport(error, calling: "fetching imgUrl")
            }
            switch response.status.code {
            case 200..<300:
                let bytes: ByteBuffer
                do {
                    bytes = try await response.body.collect(upTo: configuration.maxBytes)
                } catch is NIOTooManyBytesError {
                    throw RecognitionFailure.rejected(JobError(.imageTooLarge, "the image at imgUrl is larger than \(configuration.maxBytes) bytes"))
                } catch {
                    if Task.isCancelled { throw CancellationError() }
                    throw RecognitionFailure.transport(error, calling: "reading imgUrl")
                }
                let data = Data(bytes.readableBytesView)
                guard ImageFormat(sniffing: data) != nil else {
                    throw RecognitionFailure.rejected(JobError(.imageUnreadable, "imgUrl gave no JPEG, PNG, BMP or WebP image"))
                }
                return data
            case 300..<400:
                guard let location = response.headers.first(name: "Location"), let next = URL(string: location, relativeTo: URL(string: current)) else {
                    throw RecognitionFailure.rejected(JobError(.imageUnreadable, "imgUrl redirected without a usable Location"))
                }
                current = next.absoluteString
            case 408, 429, 500..<600:
                throw RecognitionFailure.unavailable("imgUrl answered HTTP \(response.status.code)")
            default:
                throw RecognitionFailure.rejected(JobError(.imageUnreadable, "imgUrl answered HTTP \(response.status.code)"))
            }
        }
        throw RecognitionFailure.rejected(JobError(.imageUnreadable, "imgUrl redirected more than \(configuration.maxRedirects) times"))
    }

    /// Resolves `host` (off the cooperative pool) and refuses it when any address is not public.
    private func checkHost(_ host: String) async throws {
        guard !configuration.allowPrivateAddresses else { return }
        let addresses: [IPAddress]
        if let literal = IPAddress(host) {
            addresses = [literal]
        } else {
            addresses = (try? await NIOThreadPool.singleton.runIfActive { Self.resolve(host) }) ?? []
            guard !addresses.isEmpty else {
                throw RecognitionFailure.unavailable("cannot resolve the imgUrl host")
            }
        }
        for address in addresses {
            if let reason = AddressPolicy.forbiddenReason(address) {
                throw RecognitionFailure.rejected(JobError(.urlForbidden, "imgUrl leads to a \(reason); set IDOCR_ALLOW_PRIVATE_URLS=1 only for development"))
            }
        }
    }

    /// Every address `getaddrinfo` gives for `host` (blocking).
    static func resolve(_ host: String) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [IPAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            if entry.pointee.ai_family == AF_INET, let raw = entry.pointee.ai_addr {
                var address = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count))
            } else if entry.pointee.ai_family == AF_INET6, let raw = entry.pointee.ai_addr {
                var address = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
            }
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let parsed = IPAddress(text), !addresses.contains(parsed) { addresses.append(parsed) }
            cursor = entry.pointee.ai_next
        }
        return addresses
    }
}
