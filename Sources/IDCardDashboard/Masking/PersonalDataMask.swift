/// How the dashboard shows personal data to a role that may not reveal it: enough to tell two
/// cards apart and to recognise a misread, not enough to identify the citizen.
///
/// - name `王小明` → `王*明` (first and last character; `王*` for two)
/// - number `11010519491231002X` → `1101**********002X` (region's first four, last four)
/// - address → cut after the district (`北京市朝阳区…`): province, city, district, no street
/// - birthday `1949-12-31` → `1949-**-**`
///
/// Free text (job ids, error messages) goes through ``scrub(_:)``, which masks anything shaped
/// like an ID number: a careless producer may put one in an id.
public enum PersonalDataMask {
    /// The fields of a result body that are personal data and masked.
    public static let maskedFields: Set<String> = ["name", "idNo", "addr", "birthday"]

    /// `value` of the result field `field` as a role without ``Permission/reveal`` sees it.
    public static func field(_ field: String, _ value: String) -> String {
        switch field {
        case "name": name(value)
        case "idNo": number(value)
        case "addr": address(value)
        case "birthday": birthday(value)
        default: scrub(value)
        }
    }

    public static func name(_ value: String) -> String {
        let characters = Array(value.trimmingWhitespace)
        switch characters.count {
        case 0: return ""
        case 1: return "*"
        case 2: return String(characters[0]) + "*"
        default:
            return String(characters[0]) + String(repeating: "*", count: characters.count - 2)
                + String(characters[characters.count - 1])
        }
    }

    public static func number(_ value: String) -> String {
        let characters = Array(value.trimmingWhitespace)
        guard characters.count >= 12 else { return String(repeating: "*", count: characters.count) }
        return String(characters.prefix(4)) + String(repeating: "*", count: characters.count - 8)
            + String(characters.suffix(4))
    }

    /// Administrative suffixes above the county level.
    static let divisionEnds: Set<Character> = ["省", "市", "州", "盟"]
    /// The county level's: the cut comes after the first of them, whatever follows.
    static let districtEnds: Set<Character> = ["区", "县", "旗"]
    /// Where street-level detail begins: nothing from here on is shown.
    static let streetMarks: Set<Character> = ["路", "街", "道", "巷", "弄", "村", "镇", "乡", "号", "组", "栋", "室", "楼"]

    /// Up to the first district suffix, or else the last division suffix before any street
    /// detail or digit, within the first 20 characters; without one, nothing (`…`).
    /// Followed by `…` when cut. (An autonomous region's `自治区` counts as a district: coarser, never finer.)
    public static func address(_ value: String) -> String {
        let characters = Array(value.trimmingWhitespace)
        var keep = 0
        for (index, character) in characters.prefix(20).enumerated() {
            // Not `isNumber`: 京 and 亿 are numbers to Unicode.
            if streetMarks.contains(character) || character.isASCII || ("０"..."９").contains(character) { break }
            if districtEnds.contains(character) {
                keep = index + 1
                break
            }
            if divisionEnds.contains(character) { keep = index + 1 }
        }
        // No division named before the street: show none of it.
        if keep == 0 { return characters.isEmpty ? "" : "…" }
        return keep >= characters.count ? String(characters) : String(characters.prefix(keep)) + "…"
    }

    public static func birthday(_ value: String) -> String {
        let characters = Array(value.trimmingWhitespace)
        guard characters.count >= 4, characters.prefix(4).allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return String(repeating: "*", count: characters.count)
        }
        return String(characters.prefix(4)) + "-**-**"
    }

    /// Masks, wherever they are in `text`, ID numbers of both generations: runs of 15 to 18
    /// digits (ASCII or full-width, an `X` last), also when single spaces or hyphens split them
    /// (`110105 19491231 002X`). Shorter runs of digits stay.
    public static func scrub(_ text: String) -> String {
        let characters = Array(text)
        var out = ""
        var index = 0
        while index < characters.count {
            guard digit(characters[index]) != nil else {
                out.append(characters[index])
                index += 1
                continue
            }
            // The run: digits, a separator only between two digits, an X only after 14 digits.
            var end = index
            var digits: [Character] = []
            while end < characters.count {
                if let value = digit(characters[end]) {
                    digits.append(value)
                } else if "Xx".contains(characters[end]), digits.count >= 14 {
                    digits.append("X")
                    end += 1
                    break
                } else if " -".contains(characters[end]), end + 1 < characters.count, digit(characters[end + 1]) != nil
                {
                    // A separator within the run.
                } else {
                    break
                }
                end += 1
            }
            out += digits.count >= 15 ? number(String(digits)) : String(characters[index..<end])
            index = end
        }
        return out
    }

    /// `character` as an ASCII digit when it is one, ASCII or full-width.
    static func digit(_ character: Character) -> Character? {
        if character.isASCII, character.isNumber { return character }
        if let scalar = character.unicodeScalars.first, character.unicodeScalars.count == 1,
            (0xFF10...0xFF19).contains(scalar.value), let ascii = UnicodeScalar(scalar.value - 0xFF10 + 0x30)
        {
            return Character(ascii)
        }
        return nil
    }
}

extension String {
    var trimmingWhitespace: Substring {
        let start = firstIndex { !$0.isWhitespace } ?? endIndex
        let end = lastIndex { !$0.isWhitespace }.map(index(after:)) ?? start
        return self[start..<max(start, end)]
    }
}
