import IDCardContract
import IDCardQueue

/// `enqueue --wait --table`: results as terminal tables, one per side, then the failures.
/// Columns line up in a terminal: CJK characters take two cells.
struct ResultTable {
    /// The image's name and its result (nil when none arrived in time).
    let rows: [(image: String, result: JobResult?)]

    func render() -> String {
        var portrait: [[String]] = []
        var emblem: [[String]] = []
        var failed: [[String]] = []
        for (image, result) in rows {
            guard let result else {
                failed.append([image, "-", "no result yet: read it later with `idcard-ocr result ID`"])
                continue
            }
            guard result.status == .succeeded, let body = result.body?.objectValue else {
                failed.append([image, result.error?.code.rawValue ?? "-", result.error?.message ?? ""])
                continue
            }
            func field(_ name: String) -> String { body[name]?.stringValue ?? "?" }
            let quality = body["quality"]?.arrayValue.map { $0.compactMap(\.stringValue).joined(separator: ",") } ?? ""
            let warnings = result.warnings?.joined(separator: ",") ?? ""
            if field("type") == "2" {
                emblem.append([
                    image, field("depInfo"), field("effBeginDate"), field("effEndDate"), Self.checks(result.checks),
                    quality, warnings,
                ])
            } else {
                portrait.append([
                    image, field("name"), field("sex"), field("nationality"), field("birthday"), field("idNo"),
                    field("addr"),
                    Self.checks(result.checks)
                        + (result.derived.map { " derived: " + $0.joined(separator: ",") } ?? ""), quality, warnings,
                ])
            }
        }
        var out = ""
        if !portrait.isEmpty {
            out +=
                "Portrait side (正面)\n"
                + Self.layout(
                    [
                        "image", "name", "sex", "ethnicity", "born", "number", "address", "checks", "quality",
                        "warnings",
                    ],
                    portrait
                )
        }
        if !emblem.isEmpty {
            out +=
                "\nEmblem side (国徽面)\n"
                + Self.layout(
                    ["image", "issuing authority", "valid from", "valid until", "checks", "quality", "warnings"],
                    emblem
                )
        }
        if !failed.isEmpty {
            out += "\nFailed\n" + Self.layout(["image", "code", "message"], failed)
        }
        return out
    }

    /// `ok` when every check passed, else the names of those that failed.
    static func checks(_ checks: ResultChecks?) -> String {
        guard let checks else { return "-" }
        let failed = [
            ("idNoChecksum", checks.idNoChecksum), ("birthdayMatchesIdNo", checks.birthdayMatchesIdNo),
            ("sexMatchesIdNo", checks.sexMatchesIdNo), ("validityPeriodPlausible", checks.validityPeriodPlausible),
        ].filter { $0.1 == false }.map(\.0)
        return failed.isEmpty ? "ok" : "FAILED " + failed.joined(separator: ",")
    }

    static func layout(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { width($0[column]) }.max() ?? 0 }
        return all.map { row in
            row.indices.map { column in
                row[column]
                    + String(
                        repeating: " ",
                        count: column == row.count - 1 ? 0 : widths[column] - width(row[column]) + 2
                    )
            }.joined()
        }.joined(separator: "\n") + "\n"
    }

    /// Terminal cells: East Asian wide and fullwidth characters take two.
    static func width(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { total, scalar in
            let wide =
                (0x1100...0x115F).contains(scalar.value) || (0x2E80...0xA4CF).contains(scalar.value)
                || (0xAC00...0xD7A3).contains(scalar.value) || (0xF900...0xFAFF).contains(scalar.value)
                || (0xFE30...0xFE4F).contains(scalar.value) || (0xFF00...0xFF60).contains(scalar.value)
                || (0xFFE0...0xFFE6).contains(scalar.value) || (0x20000...0x3FFFD).contains(scalar.value)
            return total + (wide ? 2 : 1)
        }
    }
}
