import Foundation
@testable import IDCardQueue
@testable import IDCardRecognition

/// One fuzz input: one list element, as a worker takes it from `pending`.
///
/// Whatever the bytes: no crash, no hang; a job that validates re-encodes to the same job (what a
/// producer library pushes reads back unchanged); its image passes or fails intake with a
/// `JobError`; a dead letter without the element spliced in is valid JSON; a sealed one opens
/// to what it was made from.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJobDecoder(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let element = Data(UnsafeBufferPointer(start: start, count: count))
    let received = ReceivedJob(element: element)
    _ = (received.id, received.replyTo, received.meta)

    if let job = try? received.job() {
        guard let again = try? ReceivedJob(element: job.encoded()).job() else {
            fatalError("a valid job did not survive its own encoding")
        }
        precondition(again.id == job.id && again.side == job.side && again.needQuality == job.needQuality, "fields changed in a round trip")
        precondition(again.replyTo == job.replyTo && again.meta == job.meta, "replyTo or meta changed in a round trip")
        _ = try? PreparedImage(job.image, limits: IntakeLimits())
    }

    guard let letter = try? DeadLetter.encode(received, error: JobError(.invalidJob, "fuzz"), attempts: 1, worker: "fuzz") else {
        fatalError("a dead letter could not be built")
    }
    if letter.embedding == .none {
        precondition(JSONValue.parse(letter.head + letter.tail) != nil, "a dead letter is not JSON")
    } else if letter.embedding == .verbatim {
        precondition(JSONValue.parse(letter.head + element + letter.tail) != nil, "a dead letter with its job is not JSON")
    }

    // Sealed (with a fixed key: the inputs are what is fuzzed), the dead letter opens to the job
    // (or the raw element) it was made from.
    guard let keys = try? EncryptionKeys(parsing: "fuzz:" + Data(repeating: 7, count: 32).base64EncodedString()), let sealed = try? DeadLetter.encode(received, error: JobError(.invalidJob, "fuzz"), attempts: 1, worker: "fuzz", keys: keys),
        let stored = DeadLetter(element: sealed.head + sealed.tail), let opened = try? stored.opened(with: keys)
    else { fatalError("a sealed dead letter did not open") }
    if received.fields != nil {
        precondition(opened.job == JSONValue.parse(element), "a sealed job opened to something else")
    } else {
        precondition(opened.raw == String(decoding: element, as: UTF8.self), "a sealed raw element opened to something else")
    }
    return 0
}
