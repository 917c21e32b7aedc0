import Foundation
import IDCardContract

/// The contract's `body`: the 1429-1 field names, dates as `yyyy-MM-dd`, `effEndDate` possibly `长期`.
public enum CardBody {
    static let dateFields = ["birthday", "effBeginDate", "effEndDate"]

    /// Normalises a recognizer's fields: dates, the number's check character, the side, and
    /// drops what the contract does not carry (the portrait placeholder, unrequested quality flags).
    public static func normalized(
        _ fields: [String: JSONValue],
        side: Job.Side,
        needQuality: Bool
    ) -> [String: JSONValue] {
        var body = fields
        for name in dateFields {
            guard let text = body[name]?.stringValue else { continue }
            if name == "effEndDate", text.hasPrefix("长期") {
                body[name] = .string("长期")
            } else if let date = CardDate(text) {
                body[name] = .string(date.description)
            } else if text.isEmpty {
                body[name] = nil
            }
        }
        if let idNo = body["idNo"]?.stringValue {
            body["idNo"] = .string(IDNumber.normalized(idNo))
        }
        if case .string(let portrait)? = body["headImgBase64"], PreparedImage.decodeBase64(Data(portrait.utf8)) == nil {
            body["headImgBase64"] = nil
        }
        if !needQuality { body["quality"] = nil }
        if body["type"] == nil || body["type"] == .string(""), side != .detect {
            body["type"] = .string(side.rawValue)
        } else if let number = body["type"]?.intValue {
            body["type"] = .string(String(number))
        }
        return body
    }
}
