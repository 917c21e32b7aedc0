import IDCardContract

/// Intake: the one place a taken list element becomes a job worth a paid call.
///
/// Its fields are checked (docs/contract.md, "Validation"), then its image is decoded once and
/// inspected (size, signature, pixels). Whatever fails here fails for good with the contract's
/// code, before any rate slot is taken or any request sent.
public struct JobIntake: Sendable {
    /// A job that passed intake.
    public struct Admitted: Sendable {
        public let job: Job
        public let image: PreparedImage
    }

    public var limits: IntakeLimits
    /// `P:{Q}:reply:` of the queue the jobs come from: a `replyTo` elsewhere is refused.
    public var replyPrefix: String

    public init(limits: IntakeLimits = IntakeLimits(), replyPrefix: String) {
        self.limits = limits
        self.replyPrefix = replyPrefix
    }

    /// The job and its prepared image, or the first reason the element can never succeed.
    public func admit(_ received: ReceivedJob) throws(JobError) -> Admitted {
        let job = try received.job(replyPrefix: replyPrefix)
        return Admitted(job: job, image: try PreparedImage(job.image, limits: limits))
    }
}
