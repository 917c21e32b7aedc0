import Foundation
import IDCardContract
import IDCardQueue
import IDCardRecognition
import Testing

/// Field extraction from recorded RapidOCR answers to synthetic cards (scripts/synthetic-cards):
/// clean, photo-like and hard (90/180/270° rotation, low resolution, heavy JPEG, glare).
@Suite("Card fields from RapidOCR lines and boxes")
struct ExtractionTests {
    struct Fixture {
        let name: String
        let side: Job.Side
        let difficulty: String
        let truth: [String: JSONValue]
        let lines: [OCRLine]
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Fixtures/rapidocr"
    )

    static func fixtures() throws -> [Fixture] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
            .map { file in
                let data = try Data(contentsOf: directory.appendingPathComponent(file))
                let record = try #require(JSONValue.parse(data)?.objectValue)
                let answer = try #require(record["answer"]).encoded()
                return Fixture(
                    name: file,
                    side: Job.Side(rawValue: record["side"]?.stringValue ?? "") ?? .detect,
                    difficulty: record["difficulty"]?.stringValue ?? "",
                    truth: record["truth"]?.objectValue ?? [:],
                    lines: try #require(OCRLine.lines(fromRapidOCR: answer))
                )
            }
    }

    @Test("every field of every recorded card is read, with the side detected, in any orientation")
    func recordedCards() throws {
        let fixtures = try Self.fixtures()
        #expect(fixtures.count >= 24)
        for fixture in fixtures {
            let extraction = CardFieldExtractor.extract(fixture.lines)
            #expect(extraction.side == fixture.side, "\(fixture.name)")
            for (field, expected) in fixture.truth {
                #expect(extraction.body[field] == expected, "\(fixture.name) \(field)")
            }
            #expect(extraction.derived.isEmpty, "\(fixture.name)")
        }
    }

    @Test("the same lines rotated by 90°, 180° and 270° give the same fields", arguments: [1, 2, 3])
    func rotations(quarterTurns: Int) throws {
        for fixture in try Self.fixtures() where fixture.difficulty == "clean" {
            let rotated = fixture.lines.map { line in
                var line = line
                for _ in 0..<quarterTurns { line.box = line.box.map { SIMD2(-$0.y, $0.x) } }
                return line
            }
            let extraction = CardFieldExtractor.extract(rotated)
            for (field, expected) in fixture.truth {
                #expect(extraction.body[field] == expected, "\(fixture.name) \(field) turned \(quarterTurns)")
            }
        }
    }

    @Test("a birth date that was not read is derived from a valid number and said so; nothing is invented otherwise")
    func derivedFields() throws {
        let fixture = try #require(try Self.fixtures().first { $0.difficulty == "clean" && $0.side == .portrait })
        let withoutBirth = fixture.lines.filter { !$0.text.contains("年") && !$0.text.hasPrefix("出生") }
        let extraction = CardFieldExtractor.extract(withoutBirth)
        #expect(extraction.body["birthday"] == fixture.truth["birthday"])
        #expect(extraction.derived == ["birthday"])

        let numberless = withoutBirth.filter { $0.text.filter(\.isNumber).count < 17 }
        let bare = CardFieldExtractor.extract(numberless, side: .portrait)
        #expect(bare.body["birthday"] == nil && bare.body["idNo"] == nil && bare.derived.isEmpty)
    }

    @Test(
        "ethnic names snap to the printed forms; unknown values are kept",
        arguments: [
            ("民族漢", "汉"), ("民族维吾爾", "维吾尔"), ("民族蒙古族", "蒙古"), ("民族穿青人", "穿青人"), ("民族瑤", "瑶"),
            ("民族壯", "壮"), ("民族朝鮮", "朝鲜"), ("民族鄂倫春", "鄂伦春"),
        ]
    )
    func ethnicNames(read: String, expected: String) {
        let line = OCRLine(text: read, box: [SIMD2(0, 0), SIMD2(200, 0), SIMD2(200, 40), SIMD2(0, 40)], score: 1)
        let extraction = CardFieldExtractor.extract([line], side: .portrait)
        #expect(extraction.body["nationality"] == .string(expected))
    }

    @Test(
        """
        traditional forms the model answers with become the printed simplified ones; a half-read label leaves no \
        residue
        """
    )
    func simplifiedAndLabelRests() {
        func line(_ text: String, row: Double, x: Double = 0) -> OCRLine {
            OCRLine(
                text: text,
                box: [
                    SIMD2(x, row * 60), SIMD2(x + 300, row * 60), SIMD2(x + 300, row * 60 + 40),
                    SIMD2(x, row * 60 + 40),
                ],
                score: 1
            )
        }
        let portrait = CardFieldExtractor.extract(
            [line("姓名", row: 0), line("熊強敏", row: 0, x: 320), line("住址廣東省深圳市", row: 1)],
            side: .portrait
        )
        #expect(portrait.body["name"] == "熊强敏")
        #expect(portrait.body["addr"] == "广东省深圳市")
        let emblem = CardFieldExtractor.extract(
            [
                line("签发机", row: 0), line("关上海市公安局徐汇分局", row: 0, x: 320), line("有效期", row: 1),
                line("限2016.06.24-长期", row: 1, x: 320),
            ],
            side: .emblem
        )
        #expect(emblem.body["depInfo"] == "上海市公安局徐汇分局")
        #expect(emblem.body["effBeginDate"] == "2016-06-24" && emblem.body["effEndDate"] == "长期")
    }

    @Test(
        """
        a label misread in one character still anchors its value; an address stops at the number when its label was \
        missed
        """
    )
    func misreadLabels() {
        func line(_ text: String, row: Double, x: Double = 0) -> OCRLine {
            OCRLine(
                text: text,
                box: [
                    SIMD2(x, row * 60), SIMD2(x + 300, row * 60), SIMD2(x + 300, row * 60 + 40),
                    SIMD2(x, row * 60 + 40),
                ],
                score: 1
            )
        }
        let emblem = CardFieldExtractor.extract([
            line("中华人民共和国", row: 0), line("整发机关", row: 1), line("乌鲁木齐市公安局天山区分局", row: 1, x: 320),
            line("专效期限", row: 2), line("2025.01.02-长期", row: 2, x: 320),
        ])
        #expect(emblem.side == .emblem)
        #expect(emblem.body["depInfo"] == "乌鲁木齐市公安局天山区分局")
        #expect(emblem.body["effBeginDate"] == "2025-01-02" && emblem.body["effEndDate"] == "长期")

        let portrait = CardFieldExtractor.extract(
            [
                line("住址", row: 0), line("陕西省西安市雁塔区光明巷", row: 0, x: 320), line("1124号", row: 1, x: 320),
                line("610113200010050579", row: 3, x: 320),
            ],
            side: .portrait
        )
        #expect(portrait.body["addr"] == "陕西省西安市雁塔区光明巷1124号")
        #expect(portrait.body["idNo"] == "610113200010050579")
    }
}
