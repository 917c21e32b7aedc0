import IDCardContract

/// What a recognizer is asked to read.
public struct RecognitionRequest: Sendable {
    public var image: PreparedImage
    public var side: Job.Side
    public var needQuality: Bool
    /// Called once the request to the recognizer's server has started going out (its head is
    /// written; a recognizer making several calls reports the first). The worker checks there how
    /// late after its rate slot the call really left.
    public var sent: (@Sendable () -> Void)?

    public init(image: PreparedImage, side: Job.Side, needQuality: Bool, sent: (@Sendable () -> Void)? = nil) {
        self.image = image
        self.side = side
        self.needQuality = needQuality
        self.sent = sent
    }
}
