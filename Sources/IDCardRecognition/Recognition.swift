import IDCardContract

/// A successful reading.
public struct Recognition: Sendable, Equatable {
    public var provider: String
    /// Fields in the shape of the 1429-1 API's `showapi_res_body`, dates as `yyyy-MM-dd`.
    public var body: [String: JSONValue]
    /// Fields derived rather than read (an extension of the contract).
    public var derived: [String]?
    /// What the image says against trusting it (``JobResult/warningOrder``); nil when the
    /// recognizer measured nothing.
    public var warnings: [String]?

    public init(provider: String, body: [String: JSONValue], derived: [String]? = nil, warnings: [String]? = nil) {
        self.provider = provider
        self.body = body
        self.derived = derived
        self.warnings = warnings
    }

    /// How a recognition is remembered for identical bytes (`P:{Q}:image:…`).
    public var jsonValue: JSONValue {
        var fields: [String: JSONValue] = ["provider": .string(provider), "body": .object(body)]
        fields["derived"] = derived.map { .array($0.map(JSONValue.string)) }
        fields["warnings"] = warnings.map { .array($0.map(JSONValue.string)) }
        return .object(fields)
    }

    public init?(_ value: JSONValue) {
        guard let provider = value["provider"]?.stringValue, let body = value["body"]?.objectValue else { return nil }
        self.init(
            provider: provider,
            body: body,
            derived: value["derived"]?.arrayValue?.compactMap(\.stringValue),
            warnings: value["warnings"]?.arrayValue?.compactMap(\.stringValue)
        )
    }
}
