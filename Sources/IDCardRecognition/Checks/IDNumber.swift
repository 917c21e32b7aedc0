/// The 18-character resident ID number (GB 11643-1999).
public struct IDNumber: Sendable, Equatable, CustomStringConvertible {
    /// 17 digits and a check character (`0`-`9` or `X`).
    public let value: String

    static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    static let checkCharacters = Array("10X98765432")

    /// Accepts 17 digits followed by a digit or `X` (after ``normalized(_:)``); the checksum is not required.
    public init?(_ text: String) {
        // The usual case, read as bytes: Character properties cost more than the whole check.
        if text.utf8.count == 18, text.utf8.prefix(17).allSatisfy(Self.isDigit), let last = text.utf8.last,
            Self.isDigit(last) || last == UInt8(ascii: "X")
        {
            value = text
            return
        }
        let normalized = Self.normalized(text)
        let characters = Array(normalized)
        guard characters.count == 18, characters.prefix(17).allSatisfy({ $0.isASCII && $0.isNumber }),
            let last = characters.last, (last.isASCII && last.isNumber) || last == "X"
        else { return nil }
        value = normalized
    }

    /// Upper-cases the check character; OCR reads it as `x` or `×`.
    public static func normalized(_ text: String) -> String {
        // The usual answer is already 17 ASCII digits and a digit or `X`.
        if text.utf8.count == 18, text.utf8.allSatisfy({ isDigit($0) || $0 == UInt8(ascii: "X") }) { return text }
        return String(text.filter { !$0.isWhitespace }.map { $0 == "x" || $0 == "×" || $0 == "Ⅹ" ? "X" : $0 })
    }

    /// The check character the first 17 digits call for (ISO 7064 MOD 11-2).
    public var expectedCheckCharacter: Character {
        let sum = zip(digits.prefix(17), Self.weights).reduce(0) { $0 + $1.0 * $1.1 }
        return Self.checkCharacters[sum % 11]
    }

    public var hasValidChecksum: Bool { value.last == expectedCheckCharacter }

    /// Digits 7-14, when they form a real date.
    public var birthDate: CardDate? {
        let d = digits
        return CardDate(
            year: d[6] * 1000 + d[7] * 100 + d[8] * 10 + d[9],
            month: d[10] * 10 + d[11],
            day: d[12] * 10 + d[13]
        )
    }

    /// `男` for an odd 17th digit, `女` for an even one.
    public var sex: String {
        digits[16] % 2 == 1 ? "男" : "女"
    }

    /// The 18 characters as numbers (`X` as 10); `value` is ASCII by construction.
    private var digits: [Int] {
        value.utf8.map { $0 == UInt8(ascii: "X") ? 10 : Int($0 &- UInt8(ascii: "0")) }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// First 6 and last 4 characters, the only form fit for logs and diagnostics.
    public var masked: String { String(value.prefix(6)) + "********" + String(value.suffix(4)) }

    public var description: String { masked }
}
