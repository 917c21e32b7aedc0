import Foundation
import IDCardContract
import NIOPosix

/// Where an `imgUrl` may lead: `http`/`https` only, and only to public addresses unless
/// `allowPrivateAddresses` (development). Checked before any fetch here and before the 1429-1 API
/// is paid to fetch one, so a job cannot point the fleet (or a paid call) at loopback, private,
/// link-local or metadata addresses, however the address is spelled (IPv6 forms, decimal, a DNS name).
///
/// Known limits: the HTTP client resolves the name once more when connecting, so a DNS answer that
/// changes between the two lookups (rebinding) is not caught; redirects the 1429-1 API follows on
/// its side are not seen here (the fetcher here checks every hop).
public struct URLGuard: Sendable {
    public var allowPrivateAddresses: Bool

    public init(allowPrivateAddresses: Bool = false) {
        self.allowPrivateAddresses = allowPrivateAddresses
    }

    /// The parsed URL, or a ``RecognitionFailure``: rejected `url_forbidden`, or unavailable when
    /// the host does not resolve (DNS may come back: retried).
    @discardableResult
    public func check(_ text: String) async throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else { throw RecognitionFailure.rejected(JobError(.urlForbidden, "imgUrl must be an http or https URL")) }
        guard !allowPrivateAddresses else { return url }
        let addresses: [IPAddress]
        if let literal = IPAddress(host) {
            addresses = [literal]
        } else {
            // getaddrinfo blocks: off the cooperative pool. It also reads 2130706433, 0x7f.1 and 127.1 as addresses.
            addresses = (try? await NIOThreadPool.singleton.runIfActive { Self.resolve(host) }) ?? []
            guard !addresses.isEmpty else {
                throw RecognitionFailure.unavailable("cannot resolve the imgUrl host")
            }
        }
        for address in addresses {
            if let reason = AddressPolicy.forbiddenReason(address) {
                throw RecognitionFailure.rejected(
                    JobError(
                        .urlForbidden,
                        "imgUrl leads to a \(reason); set IDOCR_ALLOW_PRIVATE_URLS=1 only for development"
                    )
                )
            }
        }
        return url
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
