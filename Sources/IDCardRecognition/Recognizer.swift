import Foundation
import IDCardQueue

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
}

/// What a recognizer is asked to read.
public struct RecognitionRequest: Sendable {
    public var image: PreparedImage
    public var side: Job.Side
    public var needQuality: Bool

    public init(image: PreparedImage, side: Job.Side, needQuality: Bool) {
        self.image = image
        self.side = side
        self.needQuality = needQuality
    }
}

/// A successful reading.
public struct Recognition: Sendable, Equatable, Codable {
    public var provider: String
    /// Fields in the shape of the 1429-1 API's `showapi_res_body`, dates as `yyyy-MM-dd`.
    public var body: [String: JSONValue]
    /// Fields derived rather than read (an extension of the contract).
    public var derived: [String]?

    public init(provider: String, body: [String: JSONValue], derived: [String]? = nil) {
        self.provider = provider
        self.body = body
        self.derived = derived
    }
}

/// Why an attempt did not produce a reading, sorted by what the worker must do about it.
public enum RecognitionFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The job's own fault (no card found, bad image): fail it now, never retry.
    case rejected(JobError)
    /// The recognizer could not answer this time (network, timeout, 5xx): retry with backoff.
    case unavailable(String)
    /// The recognizer refused for rate: slow the whole fleet down, then retry.
    case rateLimited(String)
    /// The account or configuration is wrong (quota used up, bad appKey): no job is at fault;
    /// pause the worker and give the job back.
    case accountProblem(String)

    public var description: String {
        switch self {
        case .rejected(let error): error.description
        case .unavailable(let message): "ocr_unavailable: \(message)"
        case .rateLimited(let message): "rate_limited: \(message)"
        case .accountProblem(let message): "account or configuration problem: \(message)"
        }
    }

    /// The contract code a job gets when this failure is final for it.
    public var code: ErrorCode? {
        switch self {
        case .rejected(let error): error.code
        case .unavailable: .ocrUnavailable
        case .rateLimited: .rateLimited
        case .accountProblem: nil
        }
    }

    public var message: String {
        switch self {
        case .rejected(let error): error.message
        case .unavailable(let message), .rateLimited(let message), .accountProblem(let message): message
        }
    }
}
