/// The sign-in form (users-file authentication).
struct LoginPage: DashboardPage {
    var error: String?

    func render() -> HTML {
        Layout.page(
            title: "Sign in",
            session: nil,
            """
            <h1>Sign in</h1>
            \(Layout.error(error))
            <form id="login" method="post" action="/login">
            <label>User <input name="user" autocomplete="username" required autofocus></label>
            <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
            <button type="submit">Sign in</button>
            </form>
            """
        )
    }
}

/// An answer for what the user may not do, or what is not there.
struct MessagePage: DashboardPage {
    var title: String
    var id: String
    var message: String
    var session: Session?

    func render() -> HTML {
        Layout.page(
            title: title,
            session: session,
            """
            <h1>\(title)</h1>
            <p id="\(id)">\(message)</p>
            <p><a href="/">Back to the queues</a></p>
            """
        )
    }
}
