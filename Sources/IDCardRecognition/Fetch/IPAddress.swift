#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address, as the image fetcher's guard sees a resolved host.
public enum IPAddress: Sendable, Equatable, CustomStringConvertible {
    case v4(UInt32)
    case v6([UInt8])

    /// Parses the textual forms `inet_pton` accepts (dotted quad, IPv6 with or without brackets).
    public init?(_ text: String) {
        let bare = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        var v4 = in_addr()
        if inet_pton(AF_INET, bare, &v4) == 1 {
            self = .v4(UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, bare, &v6) == 1 {
            self = .v6(withUnsafeBytes(of: &v6) { Array($0) })
            return
        }
        return nil
    }

    public var description: String {
        switch self {
        case .v4(let value): return "\(value >> 24).\(value >> 16 & 255).\(value >> 8 & 255).\(value & 255)"
        case .v6(let bytes):
            return stride(from: 0, to: 16, by: 2).map {
                String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16)
            }.joined(separator: ":")
        }
    }
}

/// Which addresses an image URL may reach: public ones only, unless configured otherwise.
public enum AddressPolicy {
    /// Why `address` must not be fetched from (loopback, private, link-local, metadata, ...), or nil.
    public static func forbiddenReason(_ address: IPAddress) -> String? {
        switch address {
        case .v4(let value):
            return v4Ranges.first { value & $0.mask == $0.network }?.reason
        case .v6(let bytes):
            if bytes == [UInt8](repeating: 0, count: 16) { return "unspecified address" }
            if bytes == [UInt8](repeating: 0, count: 15) + [1] { return "loopback address" }
            // IPv4 inside IPv6: mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d), 6to4 (2002:AABB:CCDD::).
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                return forbiddenReason(.v4(embedded(bytes, at: 12)))
            }
            if bytes[0..<12] == [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] {
                return forbiddenReason(.v4(embedded(bytes, at: 12)))
            }
            // Local-use NAT64 (RFC 8215) reaches whatever the operator's translator reaches, private networks included.
            if bytes[0..<6] == [0x00, 0x64, 0xFF, 0x9B, 0x00, 0x01] {
                return "local-use NAT64 address (64:ff9b:1::/48)"
            }
            if bytes[0] == 0x20 && bytes[1] == 0x02 { return forbiddenReason(.v4(embedded(bytes, at: 2))) }
            if bytes[0] & 0xFE == 0xFC { return "unique local address (fc00::/7)" }
            if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return "link-local address (fe80::/10)" }
            if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0xC0 { return "site-local address (fec0::/10)" }
            if bytes[0] == 0xFF { return "multicast address" }
            // Deprecated IPv4-compatible (::a.b.c.d): judged as the IPv4 address it carries.
            if bytes[0..<12].allSatisfy({ $0 == 0 }) { return forbiddenReason(.v4(embedded(bytes, at: 12))) }
            return nil
        }
    }

    private static func embedded(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }

    private static let v4Ranges: [(network: UInt32, mask: UInt32, reason: String)] = [
        ("0.0.0.0", 8, "unspecified network (0.0.0.0/8)"), ("10.0.0.0", 8, "private address (10.0.0.0/8)"),
        ("100.64.0.0", 10, "shared address space (100.64.0.0/10)"), ("127.0.0.0", 8, "loopback address"),
        ("169.254.0.0", 16, "link-local or metadata address (169.254.0.0/16)"),
        ("172.16.0.0", 12, "private address (172.16.0.0/12)"),
        ("192.0.0.0", 24, "IETF protocol assignments (192.0.0.0/24)"),
        ("192.168.0.0", 16, "private address (192.168.0.0/16)"),
        ("198.18.0.0", 15, "benchmarking network (198.18.0.0/15)"), ("224.0.0.0", 4, "multicast address"),
        ("240.0.0.0", 4, "reserved address (240.0.0.0/4)"),
    ].map { text, bits, reason in
        guard case .v4(let network)? = IPAddress(text) else { return (0, 0, reason) }
        return (network, bits == 0 ? 0 : UInt32.max << (32 - UInt32(bits)), reason)
    }
}
