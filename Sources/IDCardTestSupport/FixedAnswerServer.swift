import Foundation
import Hummingbird
import NIOConcurrencyHelpers

/// An HTTP server on 127.0.0.1 that answers fixed responses per path: images, redirects, errors.
/// For testing what fetches URLs.
public enum FixedAnswerServer {
    public struct Answer: Sendable {
        public var status: Int
        /// `Location` and `Content-Type` are sent.
        public var headers: [String: String]
        public var body: Data
        /// Sends the body a byte at a time with this pause after each: never idle long enough for
        /// a read timeout, never done in time.
        public var drip: Duration?

        public init(status: Int = 200, headers: [String: String] = [:], body: Data = Data(), drip: Duration? = nil) {
            self.status = status
            self.headers = headers
            self.body = body
            self.drip = drip
        }

        public static func redirect(to location: String) -> Answer {
            Answer(status: 302, headers: ["Location": location])
        }
    }

    /// The paths asked for so far, in order: a test of a refusal checks that none was.
    public final class Requests: Sendable {
        private let paths = NIOLockedValueBox<[String]>([])

        public var all: [String] { paths.withLockedValue { $0 } }

        func record(_ path: String) { paths.withLockedValue { $0.append(path) } }
    }

    /// Serves `answers` (path → answer) while `body` runs; the closure gets `http://127.0.0.1:PORT`
    /// and the log of the requests that reached the server.
    public static func serve<T: Sendable>(
        _ answers: [String: Answer],
        _ body: @Sendable (String, Requests) async throws -> T
    ) async throws -> T {
        let requests = Requests()
        let router = Router()
        router.get("**") { request, _ -> Response in
            requests.record(request.uri.path)
            guard let answer = answers[request.uri.path] else { return Response(status: .notFound) }
            var headers = HTTPFields()
            if let location = answer.headers["Location"] { headers[.location] = location }
            if let type = answer.headers["Content-Type"] { headers[.contentType] = type }
            guard let drip = answer.drip else {
                return Response(
                    status: .init(code: answer.status),
                    headers: headers,
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body))
                )
            }
            return Response(
                status: .init(code: answer.status),
                headers: headers,
                body: ResponseBody { writer in
                    for byte in answer.body {
                        try await writer.write(ByteBuffer(bytes: [byte]))
                        try await Task.sleep(for: drip)
                    }
                    try await writer.finish(nil)
                }
            )
        }
        return try await LoopbackServer.serve(router) { port in try await body("http://127.0.0.1:\(port)", requests) }
    }
}
