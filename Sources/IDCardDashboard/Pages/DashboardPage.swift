/// A page the dashboard renders: all of its markup through ``HTML``.
protocol DashboardPage: Sendable {
    func render() -> HTML
}
