/// How to reach the 1429-1 API.
public struct ShowAPIConfiguration: Sendable {
    /// Seconds to establish a connection; the process's HTTP client is made with it too.
    public static let connectTimeout: Double = 5

    /// The endpoint; default `https://route.showapi.com/1429-1`.
    public var url: String
    /// The appKey. Sent in the query string, never logged.
    public var appKey: String
    /// Seconds for the whole call, answer included; the API reads large images in a few seconds.
    public var timeout: Double
    /// Largest answer accepted, in bytes: a card's fields are a few KB.
    public var maxResponseBytes: Int
    /// A PEM file of the CA certificates to trust for an https `url` instead of the system's
    /// (a TLS-inspecting egress proxy, a test server); `nil`: the system's.
    public var caFile: String?

    public init(
        url: String = "https://route.showapi.com/1429-1",
        appKey: String,
        timeout: Double = 30,
        maxResponseBytes: Int = 1 << 20,
        caFile: String? = nil
    ) {
        self.url = url
        self.appKey = appKey
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
        self.caFile = caFile
    }
}
