import Foundation
import IDCardContract

/// Turns a text detector's lines into the contract's `body`, from the geometry of the boxes rather
/// than the order the lines came in.
///
/// 1. De-skew: the median angle of the boxes' long sides makes text lines horizontal (this also
///    undoes 90° and 270° rotations).
/// 2. Up or down: of the two readings left after de-skewing, keep the one whose layout fits a card
///    (labels left of values, 姓名 above 公民身份号码, the titles above 签发机关).
/// 3. Rows: lines whose centres share a height band, read left to right, labels found with common
///    misreads tolerated, values taken from the rest of the row (or the following rows: address).
/// A field that was not read is absent. Birth date and sex may be derived from a number that passes
/// its checksum; they are then listed in `derived`.
public enum CardFieldExtractor {
    public struct Extraction: Sendable, Equatable {
        public var side: Job.Side
        public var body: [String: JSONValue]
        public var derived: [String]
    }

    static let labels: [String: [String]] = [
        "name": ["姓名", "娃名", "姓各", "性名"],
        "sex": ["性别", "牲别"],
        "nationality": ["民族", "民旅"],
        "birth": ["出生"],
        "address": ["住址", "佳址", "往址", "住趾"],
        "number": ["公民身份号码", "公民身份号", "身份号码"],
        "authority": ["签发机关", "鑫发机关", "签发机美", "签发机"],
        "validity": ["有效期限", "有效期", "有效斯限"],
        "title": ["中华人民共和国", "居民身份证"],
    ]

    public static func extract(_ lines: [OCRLine], side requested: Job.Side = .detect) -> Extraction {
        let upright = orient(lines)
        let rows = Self.rows(upright)
        let side = requested != .detect ? requested : detectSide(rows)
        var body: [String: JSONValue] = ["type": .string(side.rawValue)]
        var derived: [String] = []
        if side == .emblem {
            readEmblem(rows, into: &body)
        } else {
            readPortrait(rows, into: &body)
            if let idNo = body["idNo"]?.stringValue, let number = IDNumber(idNo), number.hasValidChecksum {
                if body["birthday"] == nil, let birth = number.birthDate {
                    body["birthday"] = .string(birth.description)
                    derived.append("birthday")
                }
                if body["sex"] == nil {
                    body["sex"] = .string(number.sex)
                    derived.append("sex")
                }
            }
        }
        return Extraction(side: side, body: body, derived: derived)
    }

    // MARK: Geometry

    /// A line in the card's frame: x to the right, y down, text horizontal.
    struct PlacedLine {
        var text: String
        var minX: Double, maxX: Double, minY: Double, maxY: Double
        var midY: Double { (minY + maxY) / 2 }
        var height: Double { maxY - minY }
    }

    static func orient(_ lines: [OCRLine]) -> [PlacedLine] {
        let angles = lines.filter { $0.text.count >= 3 }.map(longSideAngle)
        let angle = median(angles.isEmpty ? lines.map(longSideAngle) : angles) ?? 0
        let (c, s) = (cos(angle), sin(angle))
        let deskewed = lines.map { line in
            place(line.text, line.box.map { SIMD2($0.x * c + $0.y * s, -$0.x * s + $0.y * c) })
        }
        let flipped = lines.map { line in
            place(line.text, line.box.map { SIMD2(-($0.x * c + $0.y * s), -(-$0.x * s + $0.y * c)) })
        }
        return layoutScore(flipped) > layoutScore(deskewed) ? flipped : deskewed
    }

    static func place(_ text: String, _ points: [SIMD2<Double>]) -> PlacedLine {
        PlacedLine(
            text: text.filter { !$0.isWhitespace },
            minX: points.map(\.x).min() ?? 0,
            maxX: points.map(\.x).max() ?? 0,
            minY: points.map(\.y).min() ?? 0,
            maxY: points.map(\.y).max() ?? 0
        )
    }

    /// The direction of the box's longer side, in (-π/2, π/2].
    static func longSideAngle(_ line: OCRLine) -> Double {
        let top = line.box[1] - line.box[0]
        let side = line.box[3] - line.box[0]
        let along = (top.x * top.x + top.y * top.y) >= (side.x * side.x + side.y * side.y) ? top : side
        var angle = atan2(along.y, along.x)
        if angle <= -.pi / 2 { angle += .pi }
        if angle > .pi / 2 { angle -= .pi }
        return angle
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        return values.sorted()[values.count / 2]
    }

    /// How much a reading looks like an upright card: anchors in their top-to-bottom order,
    /// labels left of their values.
    static func layoutScore(_ lines: [PlacedLine]) -> Int {
        func find(_ key: String) -> PlacedLine? {
            lines.first { line in labels[key]!.contains { line.text.hasPrefix($0) } }
        }
        var score = 0
        let portraitOrder = ["name", "sex", "birth", "address", "number"].compactMap(find)
        let emblemOrder = ["title", "authority", "validity"].compactMap(find)
        for order in [portraitOrder, emblemOrder] where order.count > 1 {
            for (upper, lower) in zip(order, order.dropFirst()) { score += upper.midY < lower.midY ? 2 : -2 }
        }
        if let label = find("number"), let number = lines.first(where: { $0.text.filter(\.isNumber).count >= 15 }) {
            score += number.minX > label.minX ? 3 : -3
        }
        return score
    }

    /// Groups lines into rows by their vertical centres, each row read left to right.
    static func rows(_ lines: [PlacedLine]) -> [[PlacedLine]] {
        let typicalHeight = median(lines.map(\.height)) ?? 1
        var rows: [[PlacedLine]] = []
        for line in lines.sorted(by: { $0.midY < $1.midY }) {
            if let last = rows.last, let center = last.map(\.midY).max(), abs(line.midY - center) < typicalHeight * 0.55
            {
                rows[rows.count - 1].append(line)
            } else {
                rows.append([line])
            }
        }
        return rows.map { $0.sorted { $0.minX < $1.minX } }
    }

    // MARK: Fields

    static func detectSide(_ rows: [[PlacedLine]]) -> Job.Side {
        let text = rows.flatMap { $0 }.map(\.text).joined()
        let portrait = ["name", "sex", "birth", "address", "number"].filter { key in
            labels[key]!.contains { text.contains($0) }
        }.count
        let emblem = ["authority", "validity", "title"].filter { key in labels[key]!.contains { text.contains($0) } }
            .count
        if portrait == 0 && emblem == 0 {
            return text.contains { $0.isNumber } && text.filter(\.isNumber).count >= 17 ? .portrait : .detect
        }
        return emblem > portrait ? .emblem : .portrait
    }

    /// The row text after a label of `key`, and the row's index. When only the start of the label
    /// was found (`签发机`), the rest of it (`关`) is not taken for the value. Labels of four or
    /// more characters also match a row that starts with them but for one misread (`整发机关`).
    static func value(after key: String, in rows: [[PlacedLine]]) -> (String, Int)? {
        let full = labels[key]![0]
        let texts = rows.map { $0.map(\.text).joined() }
        for (index, text) in texts.enumerated() {
            for label in labels[key]! {
                guard let range = text.range(of: label) else { continue }
                var value = text[range.upperBound...]
                if full.hasPrefix(label), label != full {
                    let rest = full.dropFirst(label.count)
                    if value.hasPrefix(rest) { value = value.dropFirst(rest.count) }
                }
                return (String(value), index)
            }
        }
        guard full.count >= 4 else { return nil }
        for (index, text) in texts.enumerated() where text.count > full.count {
            let misreads = zip(text, full).filter { $0 != $1 }.count
            if misreads <= 1 { return (String(text.dropFirst(full.count)), index) }
        }
        return nil
    }

    static func readPortrait(_ rows: [[PlacedLine]], into body: inout [String: JSONValue]) {
        if let (text, _) = value(after: "name", in: rows) {
            let name = text.prefix { !($0.isASCII && $0.isNumber) }
            if !name.isEmpty { body["name"] = .string(SimplifiedForms.simplified(String(name))) }
        }
        if let (text, _) = value(after: "sex", in: rows), let sex = text.first(where: { $0 == "男" || $0 == "女" }) {
            body["sex"] = .string(String(sex))
        }
        if let (text, _) = value(after: "nationality", in: rows) {
            let nation = EthnicGroups.snap(text)
            if !nation.isEmpty { body["nationality"] = .string(nation) }
        }
        if let (text, _) = value(after: "birth", in: rows), let date = CardDate(text) {
            body["birthday"] = .string(date.description)
        }
        let numberRow = value(after: "number", in: rows)?.1
        if let (first, start) = value(after: "address", in: rows) {
            var parts = [first]
            let end = numberRow ?? rows.count
            if start + 1 < end {
                for row in rows[(start + 1)..<end] {
                    let text = row.map(\.text).joined()
                    if labels.values.joined().contains(where: { text.hasPrefix($0) }) { break }
                    // The number's own row, when its label was not read.
                    if text.filter(\.isNumber).count >= 15 { break }
                    parts.append(text)
                }
            }
            let address = parts.joined()
            if !address.isEmpty { body["addr"] = .string(SimplifiedForms.simplified(address)) }
        }
        let candidates = rows.flatMap { $0 }.map { IDNumber.normalized($0.text) }
        if let number = candidates.lazy.compactMap(Self.numberIn).first {
            body["idNo"] = .string(number)
        }
    }

    /// 17 digits and a check character within a line of text.
    static func numberIn(_ text: String) -> String? {
        let characters = Array(text)
        guard characters.count >= 18 else { return nil }
        for start in 0...(characters.count - 18) {
            let candidate = String(characters[start..<(start + 18)])
            if IDNumber(candidate) != nil { return candidate }
        }
        return nil
    }

    static func readEmblem(_ rows: [[PlacedLine]], into body: inout [String: JSONValue]) {
        if let (text, _) = value(after: "authority", in: rows), !text.isEmpty {
            body["depInfo"] = .string(SimplifiedForms.simplified(text))
        }
        if let (text, _) = value(after: "validity", in: rows) {
            let parts = text.split(whereSeparator: { $0 == "-" || $0 == "—" || $0 == "–" || $0 == "至" || $0 == "~" })
                .map(String.init)
            if let first = parts.first, let begin = CardDate(first) {
                body["effBeginDate"] = .string(begin.description)
            }
            if parts.count > 1 {
                if parts[1].hasPrefix("长期") {
                    body["effEndDate"] = "长期"
                } else if let end = CardDate(parts[1]) {
                    body["effEndDate"] = .string(end.description)
                }
            }
        }
    }
}
