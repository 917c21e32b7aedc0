/// Where Redis Cluster keeps a key: one of 16,384 slots, from the CRC16 of the key or of its hash
/// tag (the part between the first `{` and the next `}`, when not empty).
///
/// Every key of a queue carries the tag `{Q}`, so a queue's scripts touch one slot and run on
/// one master; different queues spread over the shards.
public struct HashSlot: Hashable, Sendable, CustomStringConvertible {
    public static let count = 16_384
    public let value: Int

    public init(key: some Collection<UInt8>) {
        value = Int(Self.crc16(Self.hashedPart(of: key)) % UInt16(Self.count))
    }

    public init(key: String) {
        self.init(key: Array(key.utf8))
    }

    /// The slot numbered `value`, when it is one (0–16,383).
    init?(_ value: Int) {
        guard (0..<Self.count).contains(value) else { return nil }
        self.value = value
    }

    public var description: String { String(value) }

    /// The hash tag when there is a non-empty one, else the whole key (Redis's `keyHashSlot`).
    static func hashedPart<Key: Collection<UInt8>>(of key: Key) -> Key.SubSequence {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")) else { return key[...] }
        let afterOpen = key.index(after: open)
        guard let close = key[afterOpen...].firstIndex(of: UInt8(ascii: "}")), close != afterOpen else {
            return key[...]
        }
        return key[afterOpen..<close]
    }

    /// CRC16-CCITT (XMODEM), as Redis Cluster computes it.
    static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 {
                crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
            }
        }
        return crc
    }
}
