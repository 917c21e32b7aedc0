/// The 18-character resident ID number (GB 11643-1999).
public struct IDNumber: Sendable, Equatable, CustomStringConvertible {
    /// 17 digits and a check character (`0`-`9` or `X`).
    public let value: String

    static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    static let checkCharacters = Array("10X98765432")

    /// Accepts 17 digits followed by a digit or `X` (after ``normalized(_:)``); the checksum is not required.
    public init?(_ text: String) {
        let normalized = Self.normalized(text)
        let characters = Array(normalized)
        guard characters.count == 18, characters.prefix(17).allSatisfy({ $0.isASCII && $0.isNumber }),
            let last = characters.last, (last.isASCII && last.isNumber) || last == "X"
        else { return nil }
        value = normalized
    }

    /// Upper-cases the check character; OCR reads it as `x` or `×`.
    public static func normalized(_ text: String) -> String {
        String(text.filter { !$0.isWhitespace }.map { $0 == "x" || $0 == "×" || $0 == "Ⅹ" ? "X" : $0 })
    }

    /// The check character the first 17 digits call for (ISO 7064 MOD 11-2).
    public var expectedCheckCharacter: Character {
        let digits = value.prefix(17).compactMap(\.wholeNumberValue)
        let sum = zip(digits, Self.weights).reduce(0) { $0 + $1.0 * $1.1 }
        return Self.checkCharacters[sum % 11]
    }

    public var hasValidChecksum: Bool { value.last == expectedCheckCharacter }

    /// Digits 7-14, when they form a real date.
    public var birthDate: CardDate? {
        let digits = Array(value)
        guard let year = Int(String(digits[6..<10])), let month = Int(String(digits[10..<12])), let day = Int(String(digits[12..<14])) else {
            return nil
        }
        return CardDate(year: year, month: month, day: day)
    }

    /// `男` for an odd 17th digit, `女` for an even one.
    public var sex: String {
        (Array(value)[16].wholeNumberValue ?? 0) % 2 == 1 ? "男" : "女"
    }

    /// First 6 and last 4 characters, the only form fit for logs and diagnostics.
    public var masked: String { String(value.prefix(6)) + "********" + String(value.suffix(4)) }

    public var description: String { masked }
}
