import Foundation
import IDCardWorker

/// The addresses allowed to vouch for a user with headers (``DashboardConfiguration/trustedProxies``):
/// anyone who can reach the dashboard directly could send the same headers.
public struct TrustedProxies: Sendable, Equatable {
    struct Network: Sendable, Equatable {
        var address: [UInt8]
        var prefixLength: Int

        func contains(_ other: [UInt8]) -> Bool {
            guard other.count == address.count else { return false }
            var bits = prefixLength
            for (a, b) in zip(address, other) {
                guard bits > 0 else { return true }
                let mask: UInt8 = bits >= 8 ? 0xFF : ~(0xFF >> UInt8(bits))
                if a & mask != b & mask { return false }
                bits -= 8
            }
            return true
        }
    }

    let networks: [Network]

    /// `10.0.0.0/8,::1/128`; an address without `/` is that address alone.
    public init(list: String) throws(ConfigurationError) {
        var networks: [Network] = []
        for entry in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let parts = entry.split(separator: "/", maxSplits: 1)
            guard let address = Self.bytes(of: String(parts[0])) else {
                throw ConfigurationError("IDOCR_DASHBOARD_TRUSTED_PROXIES: \(entry) is not an address or CIDR")
            }
            let longest = address.count * 8
            let length = parts.count == 2 ? Int(parts[1]) : longest
            guard let length, (0...longest).contains(length) else {
                throw ConfigurationError("IDOCR_DASHBOARD_TRUSTED_PROXIES: \(entry) has a bad prefix length")
            }
            networks.append(Network(address: address, prefixLength: length))
        }
        self.networks = networks
    }

    /// True when `address` (textual IPv4 or IPv6; an IPv4-mapped IPv6 counts as its IPv4) is in a network.
    public func trusts(_ address: String?) -> Bool {
        guard let address, var bytes = Self.bytes(of: address) else { return false }
        if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            bytes = Array(bytes[12...])
        }
        return networks.contains { $0.contains(bytes) }
    }

    static func bytes(of text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
