/// `application/x-www-form-urlencoded` fields, as 1429-1 clients send them: `name=value` pairs
/// joined by `&`, `+` for a space and `%XX` for a byte. A malformed escape is kept as written (as
/// browsers and most servers do); a repeated name keeps its last value in ``values`` and every
/// one in ``repeated`` (the dashboard's checkboxes).
public struct FormFields: Sendable, Equatable {
    public private(set) var values: [String: [UInt8]] = [:]
    public private(set) var repeated: [String: [[UInt8]]] = [:]

    public init(parsing body: some Collection<UInt8>) {
        var start = body.startIndex
        while start < body.endIndex {
            let end = body[start...].firstIndex(of: UInt8(ascii: "&")) ?? body.endIndex
            let pair = body[start..<end]
            if !pair.isEmpty {
                let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
                let name = String(decoding: Self.decoded(pair[pair.startIndex..<equals]), as: UTF8.self)
                let value = equals < pair.endIndex ? Self.decoded(pair[pair.index(after: equals)...]) : []
                values[name] = value
                repeated[name, default: []].append(value)
            }
            start = end < body.endIndex ? body.index(after: end) : end
        }
    }

    /// Merges the query's fields under the body's: the body wins when both name a field.
    public mutating func addMissing(from other: FormFields) {
        values.merge(other.values) { mine, _ in mine }
        repeated.merge(other.repeated) { mine, _ in mine }
    }

    public subscript(name: String) -> [UInt8]? { values[name] }

    public func text(_ name: String) -> String? { values[name].map { String(decoding: $0, as: UTF8.self) } }

    /// Every value given for `name`, in order.
    public func texts(_ name: String) -> [String] {
        (repeated[name] ?? []).map { String(decoding: $0, as: UTF8.self) }
    }

    static func decoded(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"),
                let high = hexValue(bytes, bytes.index(index, offsetBy: 1, limitedBy: bytes.endIndex)),
                let low = hexValue(bytes, bytes.index(index, offsetBy: 2, limitedBy: bytes.endIndex))
            {
                out.append(high << 4 | low)
                index = bytes.index(index, offsetBy: 3)
                continue
            } else {
                out.append(byte)
            }
            index = bytes.index(after: index)
        }
        return out
    }

    private static func hexValue<C: Collection<UInt8>>(_ bytes: C, _ index: C.Index?) -> UInt8? {
        guard let index, index < bytes.endIndex else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return bytes[index] - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return bytes[index] - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return bytes[index] - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
