extension Sequence<UInt8> {
    /// Lower-case hex, as Redis's `sha1hex` writes digests: image keys and the lost-take counters
    /// are matched against it. Without `String(format:)`, which costs more than the hash itself.
    public var lowercaseHex: String {
        var out: [UInt8] = []
        out.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// `0`-`9`, `a`-`f`: the module's one hex table (digests here, `\u00XX` escapes in the JSON writer).
let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
