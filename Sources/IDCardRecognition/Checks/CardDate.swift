/// A calendar date as printed on or read from a card.
public struct CardDate: Sendable, Equatable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1900...2200).contains(year), (1...12).contains(month),
            (1...Self.days(inMonth: month, year: year)).contains(day)
        else {
            return nil
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Reads `1988-03-15`, `1988.03.15`, `1988/3/15`, `19880315` and `1988年3月15日`.
    public init?(_ text: String) {
        // The usual case, `yyyy-MM-dd`, read as bytes.
        let bytes = Array(text.utf8)
        if bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") {
            let number = { (range: Range<Int>) -> Int? in
                bytes[range].allSatisfy { $0 >= 48 && $0 <= 57 }
                    ? bytes[range].reduce(0) { $0 * 10 + Int($1 - 48) } : nil
            }
            if let year = number(0..<4), let month = number(5..<7), let day = number(8..<10) {
                self.init(year: year, month: month, day: day)
                return
            }
        }
        let digitsOnly = text.filter(\.isASCIIDigitOrNothing)
        var numbers: [Int] = []
        var current = ""
        for character in text {
            if character.isASCII, character.isNumber {
                current.append(character)
            } else if !current.isEmpty {
                numbers.append(Int(current) ?? -1)
                current = ""
            }
        }
        if !current.isEmpty { numbers.append(Int(current) ?? -1) }
        if numbers.count == 1, digitsOnly.count == 8, let whole = Int(digitsOnly) {
            numbers = [whole / 10000, whole / 100 % 100, whole % 100]
        }
        guard numbers.count == 3 else { return nil }
        self.init(year: numbers[0], month: numbers[1], day: numbers[2])
    }

    public var description: String {
        "\(year)-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)"
    }

    public static func < (lhs: CardDate, rhs: CardDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// The same month and day `years` later; 29 February becomes 28 February in common years.
    public func adding(years: Int) -> CardDate? {
        CardDate(year: year + years, month: month, day: min(day, Self.days(inMonth: month, year: year + years)))
    }

    public func adding(months: Int) -> CardDate? {
        let index = year * 12 + (month - 1) + months
        let newYear = index / 12
        let newMonth = index % 12 + 1
        return CardDate(year: newYear, month: newMonth, day: min(day, Self.days(inMonth: newMonth, year: newYear)))
    }

    /// Whole years from `self` to `later`.
    public func years(until later: CardDate) -> Int {
        var years = later.year - year
        if (later.month, later.day) < (month, day) { years -= 1 }
        return years
    }

    static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

extension Character {
    fileprivate var isASCIIDigitOrNothing: Bool { isASCII && isNumber }
}
