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
    /// detail or digit, within the first 20 characters; without one, the first three characters.
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
        if keep == 0 { keep = min(3, characters.count) }
        return keep >= characters.count ? String(characters) : String(characters.prefix(keep)) + "…"
    }

    public static func birthday(_ value: String) -> String {
        let characters = Array(value.trimmingWhitespace)
        guard characters.count >= 4, characters.prefix(4).allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return String(repeating: "*", count: characters.count)
        }
        return String(characters.prefix(4)) + "-**-**"
    }

    /// Masks, wherever they are in `text`, runs of 15 to 18 digits (an 18th character `X` too):
    /// ID numbers of both generations.
    public static func scrub(_ text: String) -> String {
        var out = ""
        var run: [Character] = []
        func flush() {
            if run.count >= 15 { out += number(String(run)) } else { out += String(run) }
            run.removeAll()
        }
        for character in text {
            if character.isASCII, character.isNumber || (run.count == 17 && (character == "X" || character == "x")) {
                run.append(character)
            } else {
                flush()
                out.append(character)
            }
        }
        flush()
        return out
    }
}

extension String {
    var trimmingWhitespace: Substring {
        let start = firstIndex { !$0.isWhitespace } ?? endIndex
        let end = lastIndex { !$0.isWhitespace }.map(index(after:)) ?? start
        return self[start..<max(start, end)]
    }
}
