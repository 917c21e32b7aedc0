import Foundation

extension JSONValue {
    /// Deepest nesting accepted: jobs and answers are a few levels deep; a hostile element must
    /// not exhaust the stack.
    public static let maxDepth = 64

    /// Parses JSON text (RFC 8259, UTF-8); `nil` when it is not JSON, nests deeper than
    /// ``maxDepth`` or has anything after the value. Integers that fit are `.int`, other numbers
    /// `.double`; a repeated key keeps its last value.
    ///
    /// Hand-written because every job and every answer goes through it: Foundation's Codable
    /// decoding of an untyped value costs several times more.
    public static func parse(_ data: Data) -> JSONValue? {
        parse(data, leavingInPlace: nil)?.value
    }

    /// Parses a JSON object, leaving the string value of its top-level key `key` in place: that
    /// value is not in `fields` but is `text`, a slice of `data` sharing its storage, when it is
    /// plain ASCII without escapes (base64 always is). A job's image is then held once, in the
    /// element, not a second time as a parsed string.
    /// - Returns: `nil` when `data` is not a JSON object.
    public static func parseObject(
        _ data: Data,
        leavingInPlace key: String
    ) -> (fields: [String: JSONValue], text: Data?)? {
        guard let (value, range) = parse(data, leavingInPlace: key), case .object(let fields) = value else {
            return nil
        }
        return (fields, range.map { data[data.startIndex + $0.lowerBound..<data.startIndex + $0.upperBound] })
    }

    /// The top-level fields of a JSON object read from the start of `prefix`, up to the first value
    /// that does not end within it: what can be known of an element whose whole was not read (an
    /// element refused for its size arrives as its first bytes only).
    public static func leadingFields(ofObjectPrefix prefix: Data) -> [String: JSONValue] {
        prefix.withUnsafeBytes { raw in
            var parser = JSONParser(bytes: raw.bindMemory(to: UInt8.self))
            return parser.leadingFields()
        }
    }

    private static func parse(_ data: Data, leavingInPlace key: String?) -> (value: JSONValue, range: Range<Int>?)? {
        data.withUnsafeBytes { raw in
            var parser = JSONParser(bytes: raw.bindMemory(to: UInt8.self), inPlaceKey: key)
            guard let value = parser.value(depth: 0) else { return nil }
            parser.skipWhitespace()
            return parser.index == parser.bytes.count ? (value, parser.inPlaceRange) : nil
        }
    }
}

private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    /// A top-level key whose plain string value is only located, not copied.
    let inPlaceKey: String?
    var inPlaceRange: Range<Int>?

    init(bytes: UnsafeBufferPointer<UInt8>, inPlaceKey: String? = nil) {
        self.bytes = bytes
        self.inPlaceKey = inPlaceKey
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) -> JSONValue? {
        skipWhitespace()
        guard index < bytes.count, depth <= JSONValue.maxDepth else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "{"): return object(depth: depth + 1)
        case UInt8(ascii: "["): return array(depth: depth + 1)
        case UInt8(ascii: "\""): return string().map(JSONValue.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        default: return number()
        }
    }

    mutating func literal(_ word: StaticString, _ value: JSONValue) -> JSONValue? {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return nil }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return nil }
        index += count
        return value
    }

    mutating func object(depth: Int) -> JSONValue? {
        index += 1
        var fields: [String: JSONValue] = [:]
        fields.reserveCapacity(8)  // jobs, answers and results: a few to a dozen keys
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(fields)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let key = string() else { return nil }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            if depth == 1, key == inPlaceKey, let range = plainASCIIString() {
                inPlaceRange = range
                fields[key] = nil  // a repeated key keeps its last value
            } else {
                guard let value = value(depth: depth) else { return nil }
                fields[key] = value
                if depth == 1, key == inPlaceKey { inPlaceRange = nil }
            }
            skipWhitespace()
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(fields)
            }
            return nil
        }
    }

    /// At the start of an object that may be cut short: its top-level fields until the first one
    /// whose value is not complete.
    mutating func leadingFields() -> [String: JSONValue] {
        var fields: [String: JSONValue] = [:]
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return fields }
        index += 1
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let key = string() else { return fields }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return fields }
            index += 1
            guard let value = value(depth: 1) else { return fields }
            fields[key] = value
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ",") else { return fields }
            index += 1
        }
    }

    mutating func array(depth: Int) -> JSONValue? {
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            guard let element = value(depth: depth) else { return nil }
            elements.append(element)
            skipWhitespace()
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            return nil
        }
    }

    /// Before a string value: its content's range when it is printable ASCII without escapes, past
    /// its closing quote; otherwise `nil`, with the position unchanged.
    mutating func plainASCIIString() -> Range<Int>? {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        var end = index + 1
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") {
                defer { index = end + 1 }
                return index + 1..<end
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x80 { return nil }
            end += 1
        }
        return nil
    }

    /// At an opening quote; the string's value, escapes resolved, UTF-8 validated.
    mutating func string() -> String? {
        index += 1
        let start = index
        var isASCII = true
        // Fast path: no escapes, the bytes are the string.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let content = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                // ASCII is valid UTF-8 as it is; only other text needs the validating decoder.
                return isASCII ? String(decoding: content, as: UTF8.self) : String(validating: content, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { return nil }
            isASCII = isASCII && byte < 0x80
            index += 1
        }
        var out = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(validating: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { return nil }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard var scalar = hex4() else { return nil }
                    if (0xD800...0xDBFF).contains(scalar) {
                        // A high surrogate must be followed by an escaped low one.
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                            bytes[index + 1] == UInt8(ascii: "u")
                        else { return nil }
                        index += 2
                        guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        return nil
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { return nil }
                    out.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    return nil
                }
            default:
                if byte < 0x20 { return nil }
                out.append(byte)
                index += 1
            }
        }
        return nil
    }

    mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    mutating func number() -> JSONValue? {
        let start = index
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { return nil }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        var integral = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { return nil }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            integral = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard index < bytes.count, isDigit(bytes[index]) else { return nil }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if integral, let value = Int64(text) { return .int(value) }
        guard let value = Double(text), value.isFinite else { return nil }
        return .double(value)
    }

    func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
