import IDCardQueue

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
