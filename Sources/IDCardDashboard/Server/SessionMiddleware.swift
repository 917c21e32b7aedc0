import Foundation
import HTTPTypes
import Hummingbird

/// No page, no number, no API answer without a session: everything but the sign-in form, the
/// stylesheet and script, and `/healthz` passes here first. With users-file authentication the
/// session comes from the cookie (else: to the sign-in form, or 401 for `/api`); with proxy
/// authentication from the proxy's headers, believed from ``TrustedProxies`` only.
struct SessionMiddleware: RouterMiddleware {
    typealias Context = DashboardRequestContext
    let server: DashboardServer

    static let cookieName = "idocr_dashboard"
    static let open: Set<String> = ["/login", "/healthz", "/static/dashboard.js", "/static/dashboard.css"]

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if Self.open.contains(request.uri.path) { return try await next(request, context) }
        var context = context
        let cookie = request.cookies[server.cookieName]?.value
        switch server.configuration.authentication {
        case .users:
            let polling = request.uri.path.hasPrefix("/api/")
            guard let session = server.sessions.session(for: cookie, touching: !polling) else {
                return polling
                    ? Response(
                        status: .unauthorized,
                        headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: .init(string: "{\"error\":\"sign in first\"}"))
                    )
                    : .redirect(to: "/login")
            }
            context.session = session
            context.sessionID = cookie
            return try await next(request, context)
        case .proxy:
            switch server.proxySession(request, remote: context.remoteIP, cookie: cookie) {
            case .refused(let reason):
                server.audit.record(.refused, user: "-", remote: context.remoteIP, ["reason": reason])
                return server.page(.forbidden, MessagePage(title: "Refused", id: "refused", message: reason))
            case .existing(let session):
                context.session = session
                context.sessionID = cookie
                return try await next(request, context)
            case .opened(let id, let session):
                context.session = session
                context.sessionID = id
                var response = try await next(request, context)
                response.setCookie(server.sessionCookie(id))
                return response
            }
        }
    }
}

extension DashboardServer {
    enum ProxySession {
        case existing(Session)
        case opened(id: String, Session)
        case refused(String)
    }

    /// The session of the user the proxy names: the cookie's while it is that user's, else a new one.
    func proxySession(_ request: Request, remote: String?, cookie: String?) -> ProxySession {
        guard proxies.trusts(remote) else {
            return .refused("this dashboard takes requests through its authenticating proxy only")
        }
        guard let userField = HTTPField.Name(configuration.proxyUserHeader),
            let user = request.headers[userField]?.trimmingCharacters(in: .whitespaces), !user.isEmpty
        else { return .refused("the proxy sent no user (\(configuration.proxyUserHeader))") }
        let groups =
            HTTPField.Name(configuration.proxyGroupsHeader).flatMap { request.headers[$0] }?
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
        let roles = Set(groups.compactMap { configuration.proxyRoles[$0] })
        guard !roles.isEmpty else { return .refused("\(user) is in no group this dashboard gives a role") }
        if let existing = sessions.session(for: cookie), existing.user == user, existing.roles == roles {
            return .existing(existing)
        }
        let id = sessions.open(user: user, roles: roles)
        guard let session = sessions.session(for: id) else { return .refused("no session could be opened") }
        audit.record(
            .login,
            user: user,
            remote: remote,
            ["via": "proxy", "roles": roles.map(\.rawValue).sorted().joined(separator: ",")]
        )
        return .opened(id: id, session)
    }

    /// `__Host-` when the cookie is `Secure`: a browser then takes it only from this host over
    /// HTTPS, for path `/`, so a sibling subdomain cannot plant one (a session fixation).
    var cookieName: String {
        configuration.secureCookie ? "__Host-" + SessionMiddleware.cookieName : SessionMiddleware.cookieName
    }

    /// The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's
    /// request carries it), Secure unless turned off for plain HTTP on loopback.
    func sessionCookie(_ id: String, maxAge: Int? = nil) -> Cookie {
        Cookie(
            name: cookieName,
            value: id,
            maxAge: maxAge ?? Int(configuration.sessionLifetime.components.seconds),
            path: "/",
            secure: configuration.secureCookie,
            httpOnly: true,
            sameSite: .strict
        )
    }
}
