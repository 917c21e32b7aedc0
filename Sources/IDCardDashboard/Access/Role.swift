/// What a dashboard user may do. Looking at masked data is every role's; acting on the queue and
/// seeing personal data in full are separate grants, so the on-call engineer who requeues letters
/// need not be one who may read citizens' numbers.
public enum Permission: String, Sendable, Hashable, CaseIterable {
    /// Pages and numbers, personal data masked.
    case view
    /// Requeue, purge, pause, resume.
    case act
    /// One field of one result in full at a time, each an audit event.
    case reveal
}

/// The roles a users file or the proxy's groups name.
public enum Role: String, Sendable, Hashable, CaseIterable {
    case viewer
    case `operator`
    case revealer
    case admin

    public var permissions: Set<Permission> {
        switch self {
        case .viewer: [.view]
        case .operator: [.view, .act]
        case .revealer: [.view, .reveal]
        case .admin: [.view, .act, .reveal]
        }
    }

    /// `operator,revealer`.
    static func parse(list: some StringProtocol) -> Set<Role>? {
        var roles: Set<Role> = []
        for name in list.split(separator: ",") {
            guard let role = Role(rawValue: String(name)) else { return nil }
            roles.insert(role)
        }
        return roles.isEmpty ? nil : roles
    }
}
