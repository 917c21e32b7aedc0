/// How to reach the 1429-1 API.
public struct ShowAPIConfiguration: Sendable {
    /// The endpoint; default `https://route.showapi.com/1429-1`.
    public var url: String
    /// The appKey. Sent in the query string, never logged.
    public var appKey: String
    /// Seconds to establish a connection.
    public var connectTimeout: Double
    /// Seconds for the whole answer once connected; the API reads large images in a few seconds.
    public var readTimeout: Double
    /// Largest answer accepted, in bytes: a card's fields are a few KB.
    public var maxResponseBytes: Int

    public init(
        url: String = "https://route.showapi.com/1429-1", appKey: String,
        connectTimeout: Double = 5, readTimeout: Double = 30, maxResponseBytes: Int = 1 << 20
    ) {
        self.url = url
        self.appKey = appKey
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.maxResponseBytes = maxResponseBytes
    }
}
