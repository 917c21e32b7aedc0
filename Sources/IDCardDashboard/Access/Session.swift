import Foundation

/// A signed-in user. The cookie carries only a random id; everything else stays in the process.
public struct Session: Sendable, Equatable {
    public var user: String
    public var roles: Set<Role>
    /// Every form carries it back; a POST without it is refused (the cookie alone proves nothing:
    /// a browser sends it with another site's forms too).
    public var csrfToken: String
    public var createdAt: ContinuousClock.Instant
    public var lastSeen: ContinuousClock.Instant
    /// One message for the next page (`requeued 3`), shown once.
    public var flash: String?

    public var permissions: Set<Permission> { roles.reduce(into: []) { $0.formUnion($1.permissions) } }

    public func may(_ permission: Permission) -> Bool { permissions.contains(permission) }

    /// True when `token` is this session's, compared in constant time.
    public func acceptsCSRF(_ token: String?) -> Bool {
        guard let token else { return false }
        let (a, b) = (Array(token.utf8), Array(csrfToken.utf8))
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
