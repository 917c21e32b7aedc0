import IDCardQueue

/// A client of `serve`, as one line of the keys file names it: who it is (for its limits, its
/// jobs' ids and the logs), what it may send, and whether its key still works.
public struct APIClient: Sendable, Equatable {
    /// 1–32 characters of `A-Za-z0-9_-`: part of its jobs' ids and of its Redis keys, never secret.
    public var name: String
    public var limits: ClientLimiter.Limits
    /// A disabled key is refused (1429-1 code -1011, HTTP 403) rather than unknown: the client
    /// learns to ask for a new one, not to check its spelling.
    public var disabled: Bool

    public init(name: String, limits: ClientLimiter.Limits = .init(), disabled: Bool = false) {
        self.name = name
        self.limits = limits
        self.disabled = disabled
    }

    static func isValidName(_ name: String) -> Bool {
        (1...32).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2D || byte == 0x5F
            }
    }
}
