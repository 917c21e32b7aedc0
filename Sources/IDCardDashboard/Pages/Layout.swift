import Foundation

/// The frame of every page: the stylesheet and the one script (both served by the process: no
/// CDN, no inline code, as the Content-Security-Policy demands), the signed-in user, the flash.
enum Layout {
    static func page(title: String, session: Session?, flash: String? = nil, live: HTML = "", _ body: HTML) -> HTML {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        \(session.map { session -> HTML in "<meta name=\"csrf-token\" content=\"\(session.csrfToken)\">" } ?? "")
        <title>\(title) · idcard-ocr</title>
        <link rel="stylesheet" href="/static/dashboard.css">
        <script src="/static/dashboard.js" defer></script>
        </head>
        <body\(live)>
        <header>
        <a class="brand" href="/">idcard-ocr</a>
        \(session.map(userBar) ?? "")
        </header>
        \(flash.map { message -> HTML in "<p id=\"flash\" role=\"status\">\(message)</p>" } ?? "")
        <main>
        \(body)
        </main>
        </body>
        </html>
        """
    }

    static func userBar(_ session: Session) -> HTML {
        """
        <span id="user">\(session.user) · \(session.roles.map(\.rawValue).sorted().joined(separator: ", "))</span>
        <form id="logout" method="post" action="/logout">\(csrfField(session))\
        <button type="submit">Sign out</button></form>
        """
    }

    /// A form's complaint (a wrong password, a wrong confirmation), when there is one.
    static func error(_ message: String?) -> HTML {
        message.map { message -> HTML in "<p class=\"error\" role=\"alert\">\(message)</p>" } ?? ""
    }

    /// The hidden field every form posts back (``Session/csrfToken``).
    static func csrfField(_ session: Session) -> HTML {
        "<input type=\"hidden\" name=\"csrf\" value=\"\(session.csrfToken)\">"
    }
}

/// How numbers and times read on the pages.
enum Format {
    /// `850 ms`, `12.3 s`, `4 min 5 s`, `2 h 3 min`.
    static func duration(milliseconds: Int64) -> String {
        if milliseconds < 1000 { return "\(milliseconds) ms" }
        let seconds = Double(milliseconds) / 1000
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        let whole = Int(seconds)
        if whole < 3600 { return "\(whole / 60) min \(whole % 60) s" }
        return "\(whole / 3600) h \(whole % 3600 / 60) min"
    }

    static func perMinute(_ value: Double?) -> String {
        guard let value else { return "–" }
        return value < 10 ? String(format: "%.1f/min", value) : String(format: "%.0f/min", value)
    }

    static func perSecond(_ value: Double?) -> String {
        guard let value else { return "–" }
        return String(format: "%.2f/s", value)
    }
}
