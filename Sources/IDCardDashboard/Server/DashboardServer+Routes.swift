import Foundation
import Hummingbird
import IDCardContract
import IDCardQueue
import IDCardServe

extension DashboardServer {
    typealias Context = DashboardRequestContext

    func addRoutes(to router: Router<Context>) {
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/static/dashboard.js") { _, _ in
            Self.asset(DashboardAssets.script, type: "text/javascript; charset=utf-8")
        }
        router.get("/static/dashboard.css") { _, _ in
            Self.asset(DashboardAssets.stylesheet, type: "text/css; charset=utf-8")
        }
        router.get("/login") { _, _ in self.page(.ok, LoginPage()) }
        router.post("/login") { request, context in await self.login(request, context) }
        router.post("/logout") { request, context in await self.logout(request, context) }
        router.get("/") { _, context in await self.overview(context) }
        router.get("/queues/:queue") { _, context in await self.queuePage(context) }
        router.get("/queues/:queue/dead") { request, context in await self.deadLetters(request, context) }
        router.get("/queues/:queue/dead/purge") { _, context in await self.purgePage(context) }
        router.post("/queues/:queue/dead/purge") { request, context in await self.purge(request, context) }
        router.post("/queues/:queue/dead/requeue") { request, context in await self.requeue(request, context) }
        router.post("/queues/:queue/pause") { request, context in await self.pause(request, context, pausing: true) }
        router.post("/queues/:queue/resume") { request, context in await self.pause(request, context, pausing: false) }
        router.get("/queues/:queue/jobs/:id") { _, context in await self.jobPage(context, revealing: nil) }
        router.post("/queues/:queue/jobs/:id/reveal") { request, context in await self.reveal(request, context) }
        router.get("/api/overview") { _, _ in await self.overviewJSON() }
        router.get("/api/queues/:queue/stats") { _, context in await self.statsJSON(context) }
        router.get("/api/queues/:queue/history") { _, context in await self.historyJSON(context) }
    }

    func page(_ status: HTTPResponse.Status, _ page: some DashboardPage) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: page.render().rendered))
        )
    }

    func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: value.encoded()))
        )
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: type, .cacheControl: "no-cache"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }

    /// The route's queue, by its `:queue` segment; `nil` for one the dashboard was not given.
    func routeQueue(_ context: Context) -> (name: String, queue: JobQueue, rateKeys: RateKeys)? {
        queue(named: context.parameters.get("queue")?.removingPercentEncoding)
    }

    func notFound(_ context: Context, _ what: String) -> Response {
        page(.notFound, MessagePage(title: "Not found", id: "not-found", message: what, session: context.session))
    }

    /// Redis did not answer: say so, without the page.
    func unavailable(_ context: Context, _ error: any Error) -> Response {
        logger.warning("dashboard: Redis step failed", metadata: ["error": "\(error)"])
        return page(
            .serviceUnavailable,
            MessagePage(
                title: "Redis unavailable",
                id: "unavailable",
                message: "Redis did not answer (\(error)); the page will work again once it does.",
                session: context.session
            )
        )
    }

    /// A form's fields (forms here are small; a larger body reads as empty).
    func form(_ request: Request, _ context: Context) async -> FormFields {
        var request = request
        guard let body = try? await request.collectBody(upTo: context.maxUploadSize) else {
            return FormFields(parsing: [UInt8]())
        }
        return FormFields(parsing: Array(buffer: body))
    }
}
