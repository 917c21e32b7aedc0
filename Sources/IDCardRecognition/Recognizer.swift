import Foundation
import IDCardContract

/// Reads an ID-card image and answers in the contract's `body` shape.
///
/// The seam between the worker and a recognizer: the worker handles queues, retries and
/// throttling; a recognizer makes one attempt and classifies how it went.
public protocol Recognizer: Sendable {
    /// The result's `provider`: `showapi`, `rapidocr`, ...
    var provider: String { get }

    /// One attempt at reading the image.
    /// - Throws: ``RecognitionFailure`` for every outcome but success; `CancellationError` when cancelled.
    func recognize(_ request: RecognitionRequest) async throws -> Recognition

    /// Lets go of connections once the worker has stopped; calls after it may fail.
    func shutdown() async
}

extension Recognizer {
    /// Nothing to let go of: a recognizer on the process's shared HTTP client.
    public func shutdown() async {}
}
