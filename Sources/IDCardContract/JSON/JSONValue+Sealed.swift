extension JSONValue {
    /// The field that marks an envelope of encryption at rest (docs/contract.md, "Encryption at
    /// rest"): `{"idocr_encrypted": 1, "alg", "kid", "data"}`.
    public static let sealedMarker = "idocr_encrypted"

    /// Whether this value is a sealed envelope rather than a plain value. Readers of results and
    /// dead letters need to know without holding the keys, so the test lives with the contract.
    public var isSealed: Bool { self[Self.sealedMarker] == .int(1) }
}
