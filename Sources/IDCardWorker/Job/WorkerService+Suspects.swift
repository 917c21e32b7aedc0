import IDCardContract
import IDCardQueue
import IDCardRecognition
import Logging

/// Jobs the recognizer refused with a status that is the account's fault or the job's (HTTP 401,
/// 403, 404, 405: ``RecognitionFailure/refused(_:)``), told apart by what happens to other jobs.
///
/// A wrong appKey or URL refuses every request; a gateway rule refuses one image and lets the
/// others pass. So a refused job is kept aside (in this worker's processing list, held, not
/// failed) and the worker pauses as for an account problem, probing with one job at a time. A
/// second, different image refused too: the account; every job kept aside goes back, none is
/// failed. A different job passing: the job kept aside is tried once more (the account may just
/// have been fixed), and refused again while others pass it ends as `rejected_by_api`. Either
/// way the fleet goes on; a wrong appKey still dead-letters nothing.
extension WorkerService {
    struct Suspect: Sendable {
        /// Its claims and image digest in it: a give-back drops the claims, a recheck reuses them.
        let context: JobContext
        let reason: String
        /// Its place in ``WorkerService/held`` while it is kept aside.
        let heldSlot: Int
    }

    struct Suspects {
        /// Refused, waiting for another job to show whose fault it was.
        var aside: [Suspect] = []
        /// Another job has passed since: to be tried once more.
        var rechecks: [Suspect] = []
    }

    /// At most this many refused jobs (all of one image) are kept aside at once.
    static let maxSuspects = 8

    /// Keeps a refused job aside and pauses; a second image refused too gives every job kept
    /// aside back (the account is refused). The refusal of a job tried again while others pass is
    /// its own: ``FailureDecision`` fails it for good before it gets here.
    func setAside(_ context: JobContext, reason: String, callStartedAt: ContinuousClock.Instant) async -> ReceivedJob? {
        let wait = health.pause(reason: reason, callStartedAt: callStartedAt)
        let slot = held.withLockedValue { $0.hold(context.received) }
        let suspect = Suspect(context: context, reason: reason, heldSlot: slot)
        let (kept, accountRefused) = suspects.withLockedValue { suspects -> (Bool, [Suspect]) in
            let otherImage = suspects.aside.contains { $0.context.imageDigest != context.imageDigest }
            guard !otherImage, suspects.aside.count < Self.maxSuspects else {
                defer { suspects.aside = [] }
                return (false, suspects.aside)
            }
            suspects.aside.append(suspect)
            return (true, [])
        }
        let metadata: Logger.Metadata = ["reason": "\(reason)", "probeInMs": "\(Int(wait / .milliseconds(1)))"]
        if kept {
            context.logger.error(
                """
                the recognizer refused a job: taking no jobs; it is kept aside until another job shows whether the \
                account or this image is refused
                """,
                metadata: metadata
            )
            return nil
        }
        context.logger.error(
            """
            the recognizer refuses different images: the account or configuration is refused; taking no jobs, probing \
            again later
            """,
            metadata: metadata
        )
        for refused in accountRefused + [suspect] { await giveBack(refused) }
        return nil
    }

    /// A job passed: the jobs kept aside get another try.
    func scheduleRechecks() {
        suspects.withLockedValue { suspects in
            guard !suspects.aside.isEmpty else { return }
            suspects.rechecks += suspects.aside
            suspects.aside = []
        }
    }

    /// The next job kept aside to try again; its place in ``WorkerService/held`` goes with it to its slot.
    var hasRecheck: Bool { suspects.withLockedValue { !$0.rechecks.isEmpty } }

    func nextRecheck() -> Suspect? {
        suspects.withLockedValue { $0.rechecks.isEmpty ? nil : $0.rechecks.removeFirst() }
    }

    /// Every job kept aside goes back to `pending`, none failed (the account is refused, or the worker stops).
    func giveBackSuspects(reason: String) async {
        let all = suspects.withLockedValue { suspects in
            defer { suspects = Suspects() }
            return suspects.aside + suspects.rechecks
        }
        guard !all.isEmpty else { return }
        logger.info(
            "giving back the jobs kept aside after a refusal",
            metadata: ["jobs": "\(all.count)", "reason": "\(reason)"]
        )
        for suspect in all { await giveBack(suspect) }
    }

    private func giveBack(_ suspect: Suspect) async {
        await giveBack(suspect.context)
        held.withLockedValue { $0.forget(suspect.heldSlot) }
    }
}
