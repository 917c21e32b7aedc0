import Foundation
import IDCardContract

@testable import IDCardRecognition

/// One fuzz input: an answer of the 1429-1 API. The first byte picks the HTTP status and the
/// question asked (side, quality flags); the rest is the body.
///
/// Whatever the bytes: a recognition or a `RecognitionFailure`, never a crash; a recognition's body
/// is a JSON object that encodes and reads back unchanged (it becomes the result's `body`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzShowAPIAnswer(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let first = start.pointee
    let statuses: [UInt] = [200, 200, 200, 200, 500, 502, 429, 403]
    let sides: [Job.Side] = [.portrait, .emblem, .detect]
    let request = RecognitionRequest(
        image: .url("https://example.com/card.jpg"),
        side: sides[Int(first >> 3) % sides.count],
        needQuality: first & 0x80 != 0
    )
    let body = Data(UnsafeBufferPointer(start: start + 1, count: count - 1))
    do {
        let recognition = try ShowAPIResponse.interpret(status: statuses[Int(first & 7)], body: body, request: request)
        let encoded = JSONValue.object(recognition.body).encoded()
        precondition(
            JSONValue.parse(encoded) == .object(recognition.body),
            "a recognition's body does not read back as written"
        )
        _ = CardChecks.evaluate(recognition.body)
    } catch is RecognitionFailure {
    } catch {
        fatalError("an answer failed with something other than a RecognitionFailure: \(type(of: error))")
    }
    return 0
}
