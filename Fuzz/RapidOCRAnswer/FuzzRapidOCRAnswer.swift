import Foundation
import IDCardContract

@testable import IDCardRecognition

/// One fuzz input: an answer of the RapidOCR server, read into lines, then into card fields.
/// The first byte picks the side asked for.
///
/// Whatever the bytes: no crash, no hang; the extracted body is JSON that reads back unchanged,
/// and the consistency checks run on it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRapidOCRAnswer(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let sides: [Job.Side] = [.portrait, .emblem, .detect]
    let answer = Data(UnsafeBufferPointer(start: start + 1, count: count - 1))
    guard let lines = OCRLine.lines(fromRapidOCR: answer) else { return 0 }
    let extraction = CardFieldExtractor.extract(lines, side: sides[Int(start.pointee) % sides.count])
    let encoded = JSONValue.object(extraction.body).encoded()
    precondition(
        JSONValue.parse(encoded) == .object(extraction.body),
        "an extracted body does not read back as written"
    )
    _ = CardChecks.evaluate(extraction.body)
    return 0
}
