import Foundation
import HTTPTypes
import Hummingbird
import IDCardContract
import IDCardQueue
import IDCardServe

/// Everything that changes something: sign-in and out, requeue, purge, pause, resume, reveal.
/// Each POST must carry the session's CSRF token (``Session/acceptsCSRF(_:)``) and, when the
/// browser sends one, an `Origin` of this host; each needs its permission; each is audited.
extension DashboardServer {
    /// A POST that may not go ahead, with the answer to give instead.
    struct Refusal: Error {
        let response: Response
    }

    /// The session and form of a POST that may go ahead.
    /// - Throws: ``Refusal`` (audited) without a session, CSRF token or permission.
    func admit(
        _ request: Request,
        _ context: Context,
        needs permission: Permission,
        action: String
    ) async throws(Refusal) -> (Session, FormFields) {
        guard let session = context.session else { throw Refusal(response: .redirect(to: "/login")) }
        let fields = await form(request, context)
        let queue = context.parameters.get("queue")
        guard session.acceptsCSRF(fields.text("csrf")), Self.sameOrigin(request) else {
            audit.record(
                .refused,
                user: session.user,
                remote: context.remoteIP,
                queue: queue,
                ["action": action, "reason": "csrf"]
            )
            throw Refusal(
                response: page(
                    .forbidden,
                    MessagePage(
                        title: "Refused",
                        id: "refused",
                        message: "This form did not come from this dashboard's page (no or a wrong CSRF token): "
                            + "reload the page and try again.",
                        session: session
                    )
                )
            )
        }
        if permission == .act, configuration.readOnly {
            throw Refusal(
                response: refusal(context, action: action, queue: queue, reason: "this dashboard is read-only")
            )
        }
        guard session.may(permission) else { throw Refusal(response: refusal(context, action: action, queue: queue)) }
        return (session, fields)
    }

    /// 403 for a role without the permission, audited.
    func refusal(_ context: Context, action: String, queue: String?, reason: String? = nil) -> Response {
        let user = context.session?.user ?? "-"
        let reason = reason ?? "the role of \(user) may not \(action)"
        audit.record(
            .refused,
            user: user,
            remote: context.remoteIP,
            queue: queue,
            ["action": action, "reason": reason]
        )
        return page(.forbidden, MessagePage(title: "Refused", id: "refused", message: reason, session: context.session))
    }

    /// Whether a POST comes from this dashboard's own pages, as far as the browser says:
    /// `Sec-Fetch-Site` when it is sent (every current browser: `same-origin`, or `none` for a
    /// request the user made directly), else an `Origin` that names this host. An `Origin` of
    /// `null` (what a browser sends from a page under `Referrer-Policy: no-referrer`) and no
    /// header at all (curl, older clients) leave the decision to the CSRF token; with
    /// `allowingNullOrigin` false (the sign-in form, which has no token yet), `null` is refused,
    /// as another site's redirected form may send it.
    static func sameOrigin(_ request: Request, allowingNullOrigin: Bool = true) -> Bool {
        if let site = HTTPField.Name("Sec-Fetch-Site").flatMap({ request.headers[$0] }) {
            return site == "same-origin" || site == "none"
        }
        guard let origin = request.headers[.origin] else { return true }
        if origin == "null" { return allowingNullOrigin }
        guard let host = request.head.authority else { return false }
        return origin == "http://\(host)" || origin == "https://\(host)"
    }

    func login(_ request: Request, _ context: Context) async -> Response {
        guard configuration.authentication == .users else { return .redirect(to: "/") }
        guard Self.sameOrigin(request, allowingNullOrigin: false) else {
            return page(
                .forbidden,
                MessagePage(title: "Refused", id: "refused", message: "sign in from this dashboard's page")
            )
        }
        let fields = await form(request, context)
        let user = fields.text("user") ?? ""
        let password = fields.text("password") ?? ""
        // A name that cannot be a user's is refused before anything is checked or kept.
        guard UsersFile.isValidName(user) else {
            audit.record(.loginFailed, user: "-", remote: context.remoteIP, ["reason": "malformed name"])
            return page(.unauthorized, LoginPage(error: "Wrong user or password."))
        }
        if let wait = throttle.begin(user) {
            audit.record(.loginFailed, user: user, remote: context.remoteIP, ["reason": "throttled"])
            return page(
                .tooManyRequests,
                LoginPage(error: "Too many failed attempts: try again in \(wait.components.seconds + 1) s.")
            )
        }
        let known: UsersFile.User
        switch await verify(user: user, password: password) {
        case .user(let user): known = user
        case .busy:
            audit.record(.loginFailed, user: user, remote: context.remoteIP, ["reason": "busy"])
            return page(.tooManyRequests, LoginPage(error: "Too many sign-ins at once: try again in a moment."))
        case .wrong:
            audit.record(.loginFailed, user: user, remote: context.remoteIP)
            return page(.unauthorized, LoginPage(error: "Wrong user or password."))
        }
        throttle.succeeded(user)
        let id = sessions.open(user: known.name, roles: known.roles)
        audit.record(
            .login,
            user: known.name,
            remote: context.remoteIP,
            ["roles": known.roles.map(\.rawValue).sorted().joined(separator: ",")]
        )
        var response = Response.redirect(to: "/")
        response.setCookie(sessionCookie(id))
        return response
    }

    func logout(_ request: Request, _ context: Context) async -> Response {
        let session: Session
        do {
            (session, _) = try await admit(request, context, needs: .view, action: "logout")
        } catch {
            return error.response
        }
        sessions.close(context.sessionID)
        audit.record(.logout, user: session.user, remote: context.remoteIP)
        var response = Response.redirect(to: configuration.authentication == .users ? "/login" : "/")
        response.setCookie(sessionCookie("", maxAge: 0))
        return response
    }

    func requeue(_ request: Request, _ context: Context) async -> Response {
        guard let entry = routeQueue(context) else { return notFound(context, "This dashboard shows no such queue.") }
        let (session, fields): (Session, FormFields)
        do {
            (session, fields) = try await admit(request, context, needs: .act, action: "requeue")
        } catch {
            return error.response
        }
        // The page's checkboxes carry references (``JobLinks``); a plain id works as well.
        let ids = Set(fields.texts("id").filter { !$0.isEmpty }.compactMap(links.id(from:)))
        let code = fields.text("code").flatMap { name in ErrorCode.allCases.first { $0.rawValue == name } }
        let back = "/queues/\(HTML.urlComponent(entry.name))/dead"
        guard !ids.isEmpty || code != nil else {
            sessions.flash("nothing selected: tick letters, or pick a code", for: context.sessionID)
            return .redirect(to: back)
        }
        do {
            let (moved, sealed) = try await entry.queue.requeueDeadLetters(
                ids: ids.isEmpty ? nil : ids,
                matching: { letter in code.map { letter.error.code == $0 } ?? true },
                opening: encryptionKeys,
                // Letters hold whole jobs (images up to megabytes): a few at a time.
                batchSize: 10
            )
            var details = ["requeued": "\(moved)"]
            if !ids.isEmpty { details["ids"] = "\(ids.count)" }
            if let code { details["code"] = code.rawValue }
            if sealed > 0 { details["leftSealed"] = "\(sealed)" }
            audit.record(.requeue, user: session.user, remote: context.remoteIP, queue: entry.name, details)
            sessions.flash(
                "requeued \(moved)"
                    + (sealed > 0 ? "; \(sealed) sealed letters stay: the dashboard has no key that opens them" : ""),
                for: context.sessionID
            )
            return .redirect(to: back)
        } catch {
            return unavailable(context, error)
        }
    }

    func purge(_ request: Request, _ context: Context) async -> Response {
        guard let entry = routeQueue(context) else { return notFound(context, "This dashboard shows no such queue.") }
        let (session, fields): (Session, FormFields)
        do {
            (session, fields) = try await admit(request, context, needs: .act, action: "purge")
        } catch {
            return error.response
        }
        do {
            guard fields.text("confirm") == entry.name else {
                let dead = try await entry.queue.stats(heartbeatTimeout: heartbeatTimeout).dead
                return page(
                    .badRequest,
                    PurgePage(
                        session: session,
                        queue: entry.name,
                        dead: dead,
                        error: "Type \(entry.name) exactly to purge."
                    )
                )
            }
            let dropped = try await entry.queue.purgeDeadLetters()
            audit.record(
                .purge,
                user: session.user,
                remote: context.remoteIP,
                queue: entry.name,
                ["purged": "\(dropped)"]
            )
            sessions.flash("purged \(dropped)", for: context.sessionID)
            return .redirect(to: "/queues/\(HTML.urlComponent(entry.name))/dead")
        } catch {
            return unavailable(context, error)
        }
    }

    func pause(_ request: Request, _ context: Context, pausing: Bool) async -> Response {
        guard let entry = routeQueue(context) else { return notFound(context, "This dashboard shows no such queue.") }
        let (session, fields): (Session, FormFields)
        do {
            (session, fields) = try await admit(request, context, needs: .act, action: pausing ? "pause" : "resume")
        } catch {
            return error.response
        }
        do {
            if pausing {
                let reason = String((fields.text("reason") ?? "").prefix(200))
                try await entry.queue.pause(by: session.user, reason: PersonalDataMask.scrub(reason))
                audit.record(.pause, user: session.user, remote: context.remoteIP, queue: entry.name)
            } else {
                try await entry.queue.resume()
                audit.record(.resume, user: session.user, remote: context.remoteIP, queue: entry.name)
            }
            sessions.flash(pausing ? "paused" : "resumed", for: context.sessionID)
            return .redirect(to: "/queues/\(HTML.urlComponent(entry.name))")
        } catch {
            return unavailable(context, error)
        }
    }

    func reveal(_ request: Request, _ context: Context) async -> Response {
        let (session, fields): (Session, FormFields)
        do {
            (session, fields) = try await admit(request, context, needs: .reveal, action: "reveal")
        } catch {
            return error.response
        }
        guard let field = fields.text("field"), PersonalDataMask.maskedFields.contains(field) else {
            return page(
                .badRequest,
                MessagePage(
                    title: "Nothing to reveal",
                    id: "refused",
                    message: "name one masked field",
                    session: session
                )
            )
        }
        // Audited by the page, once it has the value to show.
        return await jobPage(context, revealing: (field, session))
    }
}
