import Foundation

/// A synthetic "image" the 1429-1 fake can read: a JPEG start and frame header, a marker, and JSON
/// carrying the card fields to answer with and a script of how to answer each call.
///
/// It passes the worker's intake like a real JPEG (signature, 640 × 400 pixels) and lets a test decide, per job,
/// what the API does: `["5xx", "5xx"]` fails twice, then answers with the card.
public enum FakeImage {
    static let marker = ImageBytes.jpeg(complete: false) + Data("IDOCR-FAKE".utf8)

    /// How the fake answers one call.
    public enum Step: String, Sendable, Codable {
        case ok
        case serverError = "5xx"
        case http429
        case rateLimited = "-1009"
        case timeout
        case malformed
        case notRecognized = "not_recognized"
        case quotaExhausted = "-2"
        /// Half an answer, then the connection closes.
        case drop
        /// HTTP 403, as a gateway rule against this one request answers.
        case http403
    }

    public static func make(
        card: [String: String],
        script: [Step] = [],
        padding: Int = 0,
        nonce: String = UUID().uuidString
    ) -> Data {
        var payload: [String: Any] = ["card": card, "script": script.map(\.rawValue), "nonce": nonce]
        if padding > 0 { payload["padding"] = String(repeating: "x", count: padding) }
        let json = (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])) ?? Data()
        return marker + json
    }

    /// Reads what ``make(card:script:padding:nonce:)`` wrote; `nil` for anything else.
    public static func read(_ bytes: Data) -> (card: [String: String], script: [Step])? {
        guard bytes.starts(with: marker),
            let object = try? JSONSerialization.jsonObject(with: bytes.dropFirst(marker.count)) as? [String: Any]
        else { return nil }
        let card = object["card"] as? [String: String] ?? [:]
        let script = (object["script"] as? [String] ?? []).compactMap(Step.init(rawValue:))
        return (card, script)
    }
}

/// Synthetic card data with valid numbers: never a real person's.
public enum SyntheticCard {
    static let surnames = Array("赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜")
    static let given = Array("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国")
    static let regions = ["110105", "310104", "420111", "440305", "510107", "330106", "320102", "610113"]
    static let streets = ["珞喻路", "中山路", "人民路", "解放大道", "建设路", "和平街"]

    /// A portrait side: name, sex, nationality, birthday, addr, idNo (checksum valid).
    public static func portrait<G: RandomNumberGenerator>(using generator: inout G) -> [String: String] {
        let year = Int.random(in: 1950...2005, using: &generator)
        let month = Int.random(in: 1...12, using: &generator)
        let day = Int.random(in: 1...28, using: &generator)
        let sequence = Int.random(in: 1...999, using: &generator)
        let region = regions.randomElement(using: &generator)!
        let body17 = region + String(format: "%04d%02d%02d%03d", year, month, day, sequence)
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let sum = zip(body17.compactMap(\.wholeNumberValue), weights).reduce(0) { $0 + $1.0 * $1.1 }
        let check = Array("10X98765432")[sum % 11]
        let name =
            String(surnames.randomElement(using: &generator)!)
            + String(
                (0..<Int.random(in: 1...2, using: &generator)).map { _ in given.randomElement(using: &generator)! }
            )
        return [
            "name": name, "sex": sequence % 2 == 1 ? "男" : "女", "nationality": "汉",
            "birthday": String(format: "%04d-%02d-%02d", year, month, day),
            "addr": "测试省示例市\(streets.randomElement(using: &generator)!)\(Int.random(in: 1...999, using: &generator))号",
            "idNo": body17 + String(check),
        ]
    }

    public static func portrait() -> [String: String] {
        var generator = SystemRandomNumberGenerator()
        return portrait(using: &generator)
    }
}
