import IDCardContract
import IDCardQueue
import Logging

extension WorkerService {
    /// Writes a failed result and a reply for elements the take refused for their size, when
    /// their first bytes name a valid id: the producer waiting for it hears why. Their dead letters
    /// were written by the take itself.
    func answerRefused(_ refused: [JobQueue.RefusedElement]) async {
        for element in refused {
            metrics.count(.failed)
            let fields = JSONValue.leadingFields(ofObjectPrefix: element.head)
            let id = ReceivedJob.validID(fields["id"])
            var logger = self.logger
            if let id { logger[metadataKey: "job"] = "\(id)" }
            logger[metadataKey: "code"] = "\(ErrorCode.imageTooLarge.rawValue)"
            logger.info("job ended", metadata: ["outcome": "failed", "bytes": "\(element.bytes)"])
            guard let id else { continue }
            let error = JobError(
                .imageTooLarge,
                "the job is \(element.bytes) bytes, more than any job that can succeed (IDOCR_MAX_IMAGE_BYTES); "
                    + "it is in the dead letters"
            )
            let result = JobResult(id: id, status: .failed, attempts: 1, durationMs: 0, error: error)
            let replyTo = fields["replyTo"]?.stringValue
            do {
                try await persistently("answer a refused job") {
                    try await self.queue.answerRefused(
                        id: id,
                        replyTo: replyTo,
                        result: result.encoded(),
                        resultTTLSeconds: self.configuration.resultTTL
                    )
                }
            } catch {
                logger.warning(
                    "could not store the failed result of a refused job; its dead letter is written",
                    metadata: ["error": "\(error)"]
                )
            }
        }
    }
}
