import Foundation
import IDCardContract

/// One line of text a detector found, with its quadrilateral (image pixels, y down) and confidence.
public struct OCRLine: Sendable, Equatable {
    public var text: String
    /// Four corners in the detector's order: top-left, top-right, bottom-right, bottom-left.
    public var box: [SIMD2<Double>]
    public var score: Double

    public init(text: String, box: [SIMD2<Double>], score: Double) {
        self.text = text
        self.box = box
        self.score = score
    }

    /// Reads a RapidOCR API answer: `{"0": {"rec_txt", "dt_boxes": [[x,y]×4], "score"}, ...}`.
    public static func lines(fromRapidOCR data: Data) -> [OCRLine]? {
        guard let object = JSONValue.parse(data)?.objectValue else { return nil }
        return object.sorted { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }.compactMap { _, value in
            guard let text = value["rec_txt"]?.stringValue, case .array(let points)? = value["dt_boxes"],
                points.count == 4
            else { return nil }
            let box: [SIMD2<Double>] = points.compactMap { point in
                guard case .array(let xy) = point, xy.count == 2, let x = xy[0].number, let y = xy[1].number else {
                    return nil
                }
                return SIMD2(x, y)
            }
            guard box.count == 4 else { return nil }
            return OCRLine(text: text, box: box, score: value["score"]?.number ?? 0)
        }
    }
}

extension JSONValue {
    var number: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }
}
