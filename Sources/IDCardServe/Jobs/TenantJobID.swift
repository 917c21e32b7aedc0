import IDCardContract

/// The ids of jobs that came through `/v1/jobs`: the client's own id, behind `v1.<client>.` on
/// the queue, so one client can neither read nor overwrite another's results, and neither can
/// reach a 1429-1 request's job (`showapi.…`).
public struct TenantJobID: Sendable, Equatable {
    public let client: String
    /// The id the client gave (or was given), as it sees it.
    public let clientID: String

    /// `nil` for an id that is not a valid job id or is too long once prefixed.
    public init?(client: String, clientID: String) {
        let queued = "v1.\(client).\(clientID)"
        guard Job.isValidID(clientID), queued.utf8.count <= Job.maxIDLength else { return nil }
        self.client = client
        self.clientID = clientID
    }

    /// The id on the queue and in the result key.
    public var queued: String { "v1.\(client).\(clientID)" }

    /// The longest id a client named `client` may give.
    public static func maxLength(client: String) -> Int { Job.maxIDLength - "v1.\(client).".utf8.count }

    /// A fresh id for a job submitted without one: `j-` and 24 random hex digits.
    public static func generated() -> String {
        var generator = SystemRandomNumberGenerator()
        return "j-" + (0..<12).map { _ in UInt8.random(in: 0...255, using: &generator) }.lowercaseHex
    }
}
