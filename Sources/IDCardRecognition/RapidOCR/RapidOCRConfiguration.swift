/// How to reach a RapidOCR API server (PyPI `rapidocr_api`) and what to accept from and for it.
public struct RapidOCRConfiguration: Sendable {
    /// The server's `/ocr` endpoint; default `http://127.0.0.1:9003/ocr`.
    public var url: String
    /// Seconds for one call, answer included. The server reads one image at a time per process,
    /// so under load most of this is waiting in its queue.
    public var timeout: Double
    /// Largest answer accepted, in bytes: a card's lines and boxes are a few KB.
    public var maxResponseBytes: Int
    /// Checks applied again to images fetched from an `imgUrl`.
    public var limits: IntakeLimits

    public init(
        url: String = "http://127.0.0.1:9003/ocr",
        timeout: Double = 30,
        maxResponseBytes: Int = 1 << 20,
        limits: IntakeLimits = IntakeLimits()
    ) {
        self.url = url
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
        self.limits = limits
    }
}
