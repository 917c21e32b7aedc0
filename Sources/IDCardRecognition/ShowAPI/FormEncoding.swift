/// `application/x-www-form-urlencoded` bodies, built byte by byte (images make them megabytes long).
struct FormEncoding {
    private(set) var bytes: [UInt8] = []

    mutating func append(_ name: String, _ value: String) {
        if !bytes.isEmpty { bytes.append(UInt8(ascii: "&")) }
        Self.escape(name.utf8, into: &bytes)
        bytes.append(UInt8(ascii: "="))
        bytes.reserveCapacity(bytes.count + value.utf8.count + value.utf8.count / 8)
        Self.escape(value.utf8, into: &bytes)
    }

    static func escape(_ text: String) -> String {
        var out = [UInt8]()
        escape(text.utf8, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static let hex = Array("0123456789ABCDEF".utf8)

    private static func escape(_ text: String.UTF8View, into out: inout [UInt8]) {
        for byte in text {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
    }
}
