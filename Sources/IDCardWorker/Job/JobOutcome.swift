import IDCardContract
import IDCardRecognition

/// How a job's path ended, before anything is written: the steps return one, and
/// ``WorkerService/conclude(_:_:)`` alone turns it into the queue step that ends the job.
enum JobOutcome: Sendable {
    /// A reading to store. `fromMemory`: read from a remembered recognition of the same bytes
    /// (nothing was paid; it is not remembered again).
    case succeeded(Job, Recognition, fromMemory: Bool)
    /// The id already has a success of this image: the job ends as that success, nothing paid.
    case alreadySucceeded
    /// A failed result and a dead letter. `provider`: the recognizer that answered, if one did.
    case failedForGood(JobError, provider: String?, warnings: [String]? = nil)
    /// The next attempt waits in `delayed` for `after`; `because` is logged.
    case retry(after: Duration, because: RecognitionFailure)
    /// Back to `pending` untouched, no attempt spent: the worker is stopping, Redis or the rate
    /// gate could not be asked, or every rate slot within the horizon is handed out.
    case giveBack
    /// The recognizer refused the account or configuration: the job goes back, with every job kept
    /// aside, and the worker pauses (``WorkerHealth/pause(reason:callStartedAt:)``).
    case pause(reason: String)
    /// The recognizer refused this request in a way that may be the job's or the account's: kept
    /// aside until another job shows which (`WorkerService+Suspects`).
    case setAside(reason: String, callStartedAt: ContinuousClock.Instant)
    /// No longer this worker's (its registration is over): nothing is written.
    case notOurs
}
