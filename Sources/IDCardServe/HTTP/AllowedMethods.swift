import HTTPTypes
import Hummingbird

/// 405 with an `Allow` header for a method a known path does not take (`GET /1429-1`,
/// `DELETE /v1/jobs/{id}`), where the router alone would answer 404 and leave a client
/// believing the path wrong. Unknown paths still get the router's 404.
struct AllowedMethods<Context: RequestContext>: RouterMiddleware {
    /// A path and the methods it takes: `pattern` segments, `*` standing for any one segment.
    struct Route: Sendable {
        let pattern: [Substring]
        let methods: [HTTPRequest.Method]

        init(_ path: String, _ methods: HTTPRequest.Method...) {
            self.pattern = path.split(separator: "/")
            self.methods = methods
        }

        func matches(_ segments: [Substring]) -> Bool {
            segments.count == pattern.count && zip(pattern, segments).allSatisfy { $0 == "*" || $0 == $1 }
        }
    }

    let routes: [Route]
    let refusal: @Sendable (_ allowed: [HTTPRequest.Method]) -> Response

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        let segments = request.uri.path.split(separator: "/")
        guard let route = routes.first(where: { $0.matches(segments) }), !route.methods.contains(request.method)
        else {
            return try await next(request, context)
        }
        var response = refusal(route.methods)
        response.headers[.allow] = route.methods.map(\.rawValue).joined(separator: ", ")
        return response
    }
}
