import Foundation
import IDCardContract
import IDCardQueue

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
    let intake = JobIntake(replyPrefix: QueueKeys().replyPrefix)
    _ = (received.id, received.replyTo(replyPrefix: intake.replyPrefix), received.meta)
    _ = JSONValue.leadingFields(ofObjectPrefix: element.prefix(4096))

    if let job = try? received.job(replyPrefix: intake.replyPrefix) {
        guard let again = try? ReceivedJob(element: job.encoded()).job(replyPrefix: intake.replyPrefix) else {
            fatalError("a valid job did not survive its own encoding")
        }
        precondition(
            again.id == job.id && again.side == job.side && again.needQuality == job.needQuality,
            "fields changed in a round trip"
        )
        precondition(again.replyTo == job.replyTo && again.meta == job.meta, "replyTo or meta changed in a round trip")
        _ = try? intake.admit(received)
    }

    guard
        let letter = try? DeadLetter.encode(received, error: JobError(.invalidJob, "fuzz"), attempts: 1, worker: "fuzz")
    else {
        fatalError("a dead letter could not be built")
    }
    if letter.embedding == .none {
        let whole = letter.head + letter.tail
        guard let stored = DeadLetter(element: whole) else { fatalError("a dead letter is not JSON") }
        precondition(stored.rawElement == element, "a dead letter does not keep its element byte for byte")
        precondition(whole.count <= 2 * element.count + 512, "a dead letter is more than twice its element")
    } else if letter.embedding == .verbatim {
        precondition(
            JSONValue.parse(letter.head + element + letter.tail) != nil,
            "a dead letter with its job is not JSON"
        )
    }

    // Sealed (with a fixed key: the inputs are what is fuzzed), the dead letter opens to the job
    // (or the raw element) it was made from.
    guard let keys = try? EncryptionKeys(parsing: "fuzz:" + Data(repeating: 7, count: 32).base64EncodedString()),
        let sealed = try? DeadLetter.encode(
            received,
            error: JobError(.invalidJob, "fuzz"),
            attempts: 1,
            worker: "fuzz",
            keys: keys
        ),
        let stored = DeadLetter(element: sealed.head + sealed.tail), let opened = try? stored.opened(with: keys)
    else { fatalError("a sealed dead letter did not open") }
    if received.fields != nil {
        precondition(opened.job == JSONValue.parse(element), "a sealed job opened to something else")
    } else {
        precondition(opened.rawElement == element, "a sealed raw element opened to something else")
    }
    return 0
}
