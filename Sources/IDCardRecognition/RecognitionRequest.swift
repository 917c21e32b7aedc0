import IDCardQueue

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
