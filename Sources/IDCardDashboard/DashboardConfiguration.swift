import Foundation
import IDCardWorker

/// How `idcard-ocr dashboard` listens and whom it lets in. Redis, the queues (`IDOCR_QUEUES` or
/// `IDOCR_QUEUE`), the key prefix, the rate budget and encryption keys come from the worker's
/// settings (``WorkerConfiguration``), so the dashboard reads what the fleet writes.
public struct DashboardConfiguration: Sendable {
    /// How people are authenticated.
    public enum Authentication: String, Sendable {
        /// A login form against ``usersFile``.
        case users
        /// Headers set by an authenticating proxy in front (oauth2-proxy), from ``trustedProxies`` only.
        case proxy
    }

    /// `IDOCR_DASHBOARD_HOST`: default 127.0.0.1 — the dashboard shows (masked) personal data:
    /// expose it on purpose, behind TLS.
    public var host = "127.0.0.1"
    /// `IDOCR_DASHBOARD_PORT`: default 9470; 0 picks a free one (logged).
    public var port = 9470
    /// `IDOCR_DASHBOARD_AUTH`: `users` (default) or `proxy`.
    public var authentication = Authentication.users
    /// `IDOCR_DASHBOARD_USERS_FILE`: `NAME ROLES HASH` lines (``UsersFile``); required with `users`.
    public var usersFile: String?
    /// `IDOCR_DASHBOARD_READ_ONLY`: refuse every action (requeue, purge, pause, resume) whatever
    /// the role; revealing a field stays a matter of role. Default off.
    public var readOnly = false
    /// `IDOCR_DASHBOARD_PROXY_USER_HEADER`: the user's name, set by the proxy. Default
    /// `X-Forwarded-User` (oauth2-proxy's `--pass-user-headers`).
    public var proxyUserHeader = "X-Forwarded-User"
    /// `IDOCR_DASHBOARD_PROXY_GROUPS_HEADER`: the user's groups, comma-separated. Default `X-Forwarded-Groups`.
    public var proxyGroupsHeader = "X-Forwarded-Groups"
    /// `IDOCR_DASHBOARD_PROXY_ROLES`: `group=role,…`: a group's members get the role (several
    /// groups add up). A user in none of them is refused. Default none.
    public var proxyRoles: [String: Role] = [:]
    /// `IDOCR_DASHBOARD_TRUSTED_PROXIES`: the addresses whose headers are believed (CIDRs,
    /// comma-separated); a request from anywhere else is refused. Default loopback only.
    public var trustedProxies = "127.0.0.1/32,::1/128"
    /// `IDOCR_DASHBOARD_SESSION_IDLE`: seconds a session lasts without a request. Default 1800.
    public var sessionIdle: Duration = .seconds(1800)
    /// `IDOCR_DASHBOARD_SESSION_MAX`: seconds a session lasts at most. Default 43200 (12 h).
    public var sessionLifetime: Duration = .seconds(43200)
    /// `IDOCR_DASHBOARD_SECURE_COOKIE`: mark the session cookie `Secure` (sent over HTTPS only).
    /// Default on; turn it off only for plain HTTP on loopback (the demo).
    public var secureCookie = true

    public init() {}

    public init(environment: [String: String]) throws(ConfigurationError) {
        let reader = EnvironmentReader(environment: environment)
        host = reader.string("IDOCR_DASHBOARD_HOST") ?? host
        port = try reader.int("IDOCR_DASHBOARD_PORT") ?? port
        if let value = reader.string("IDOCR_DASHBOARD_AUTH") {
            guard let mode = Authentication(rawValue: value) else {
                throw ConfigurationError("IDOCR_DASHBOARD_AUTH must be users or proxy, not \(value)")
            }
            authentication = mode
        }
        usersFile = reader.string("IDOCR_DASHBOARD_USERS_FILE")
        readOnly = try reader.bool("IDOCR_DASHBOARD_READ_ONLY") ?? readOnly
        proxyUserHeader = reader.string("IDOCR_DASHBOARD_PROXY_USER_HEADER") ?? proxyUserHeader
        proxyGroupsHeader = reader.string("IDOCR_DASHBOARD_PROXY_GROUPS_HEADER") ?? proxyGroupsHeader
        if let list = reader.string("IDOCR_DASHBOARD_PROXY_ROLES") { proxyRoles = try Self.groupRoles(list) }
        trustedProxies = reader.string("IDOCR_DASHBOARD_TRUSTED_PROXIES") ?? trustedProxies
        if let seconds = try reader.double("IDOCR_DASHBOARD_SESSION_IDLE") { sessionIdle = .seconds(seconds) }
        if let seconds = try reader.double("IDOCR_DASHBOARD_SESSION_MAX") { sessionLifetime = .seconds(seconds) }
        secureCookie = try reader.bool("IDOCR_DASHBOARD_SECURE_COOKIE") ?? secureCookie
    }

    /// Refuses values that cannot work, naming the setting.
    public func validate() throws(ConfigurationError) {
        guard (0...65535).contains(port) else { throw ConfigurationError("IDOCR_DASHBOARD_PORT must be 0-65535") }
        if authentication == .users, usersFile == nil {
            throw ConfigurationError(
                "IDOCR_DASHBOARD_USERS_FILE is required with IDOCR_DASHBOARD_AUTH=users: make its lines with "
                    + "`idcard-ocr dashboard-user NAME --role ROLE`"
            )
        }
        if authentication == .proxy, proxyRoles.isEmpty {
            throw ConfigurationError(
                "IDOCR_DASHBOARD_PROXY_ROLES is required with IDOCR_DASHBOARD_AUTH=proxy: group=role,… "
                    + "(roles: \(Role.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        _ = try TrustedProxies(list: trustedProxies)
        for (name, value) in [
            ("IDOCR_DASHBOARD_SESSION_IDLE", sessionIdle), ("IDOCR_DASHBOARD_SESSION_MAX", sessionLifetime),
        ]
        where value < .seconds(60) || value > .seconds(7 * 86400) {
            throw ConfigurationError("\(name) must be 60 seconds to a week")
        }
    }

    /// `group=role,group=role`.
    static func groupRoles(_ list: String) throws(ConfigurationError) -> [String: Role] {
        var roles: [String: Role] = [:]
        for entry in list.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, let role = Role(rawValue: parts[1]) else {
                throw ConfigurationError(
                    "IDOCR_DASHBOARD_PROXY_ROLES: \(entry) is not group=role (roles: "
                        + Role.allCases.map(\.rawValue).joined(separator: ", ") + ")"
                )
            }
            roles[parts[0]] = role
        }
        return roles
    }
}
