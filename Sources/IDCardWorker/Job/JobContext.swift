import IDCardContract
import IDCardQueue
import IDCardRecognition
import Logging

/// One job on its way through this worker: what every step of its path needs to know, in one
/// value instead of a parameter each.
///
/// Filled in as the job goes: intake sets the image's digest and the remembered-recognition key,
/// the gate the attempt and (once it claimed the call) the claim. Every ending reads it.
struct JobContext: Sendable {
    /// The element as taken; it names the registration it was taken under.
    let received: ReceivedJob
    let takenAt: ContinuousClock.Instant
    /// Carries `job` (its id) and, once the gate counted it, `attempt`: never the job's data.
    private(set) var logger: Logger
    /// The attempt this is, 1-based: the gate counts the attempts made before it.
    private(set) var attempt = 1
    /// Names the image (``PreparedImage/digest``) once intake read it: a failure of an image
    /// another holder of the job read successfully is dropped as a copy of that success.
    var imageDigest: String?
    /// The call's claims on the id and the bytes, once the gate made them: every ending drops them.
    var claim: JobQueue.CallClaim?

    init(_ received: ReceivedJob, takenAt: ContinuousClock.Instant, logger: Logger) {
        self.received = received
        self.takenAt = takenAt
        self.logger = logger
        if let id = received.id { self.logger[metadataKey: "job"] = "\(id)" }
    }

    var id: String? { received.id }

    /// The gate counted `attemptsMade` attempts before this one.
    mutating func counted(attemptsMade: Int) {
        attempt = attemptsMade + 1
        logger[metadataKey: "attempt"] = "\(attempt)"
    }

    mutating func failed(with code: ErrorCode) {
        logger[metadataKey: "code"] = "\(code.rawValue)"
    }

    var elapsed: Duration { .now - takenAt }
    var elapsedMilliseconds: Int { Int(elapsed / .milliseconds(1)) }
}
