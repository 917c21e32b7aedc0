import AsyncHTTPClient
import Foundation
import IDCardContract
import IDCardQueue
import IDCardRecognition
import IDCardTestSupport
import Testing

@Suite("Fetching imgUrl for a local recognizer")
struct ImageFetcherTests {
    static let jpeg = Data([0xFF, 0xD8, 0xFF, 0xE0]) + Data(repeating: 7, count: 100)
    static let answers: [String: FixedAnswerServer.Answer] = [
        "/card.jpg": .init(body: jpeg),
        "/text": .init(body: Data("not an image".utf8)),
        "/big.jpg": .init(body: Data([0xFF, 0xD8, 0xFF]) + Data(count: 2_000_000)),
        "/moved": .redirect(to: "/card.jpg"),
        "/loop": .redirect(to: "/loop"),
        "/broken": .init(status: 503),
        "/gone": .init(status: 410),
        "/drip.jpg": .init(body: jpeg, drip: .milliseconds(200)),
    ]

    func withFetcher<T: Sendable>(
        allowPrivate: Bool,
        _ body: @Sendable (ImageFetcher, String, FixedAnswerServer.Requests) async throws -> T
    ) async throws -> T {
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(redirectConfiguration: .disallow)
        )
        let fetcher = ImageFetcher(
            configuration: .init(allowPrivateAddresses: allowPrivate, maxBytes: 1_000_000, timeout: 5),
            httpClient: client
        )
        let outcome = await Result {
            try await FixedAnswerServer.serve(Self.answers) { try await body(fetcher, $0, $1) }
        }
        try await client.shutdown()
        return try outcome.get()
    }

    func failure(_ fetch: () async throws -> Data) async -> RecognitionFailure? {
        do {
            _ = try await fetch()
            return nil
        } catch {
            return error as? RecognitionFailure
        }
    }

    @Test("images, redirects, caps and errors, with private addresses allowed (development)")
    func fetching() async throws {
        try await withFetcher(allowPrivate: true) { fetcher, base, requests in
            let direct = try await fetcher.fetch(base + "/card.jpg")
            let redirected = try await fetcher.fetch(base + "/moved")
            #expect(direct == Self.jpeg && redirected == Self.jpeg)
            #expect(await failure { try await fetcher.fetch(base + "/text") }?.code == .imageUnreadable)
            #expect(await failure { try await fetcher.fetch(base + "/big.jpg") }?.code == .imageTooLarge)
            #expect(await failure { try await fetcher.fetch(base + "/loop") }?.code == .imageUnreadable)
            #expect(await failure { try await fetcher.fetch(base + "/gone") }?.code == .imageUnreadable)
            #expect(await failure { try await fetcher.fetch(base + "/broken") }?.code == .ocrUnavailable)
            #expect(requests.all.contains("/card.jpg"))  // the log the refusals test relies on sees requests
        }
    }

    @Test("a body dripping a byte at a time ends at the fetch's deadline, not when the server stops")
    func drippingBody() async throws {
        try await withFetcher(allowPrivate: true) { fetcher, base, _ in
            let started = ContinuousClock.now
            #expect(await failure { try await fetcher.fetch(base + "/drip.jpg") }?.code == .ocrUnavailable)
            #expect(ContinuousClock.now - started < .seconds(10))  // 5 s deadline; the body would take 21 s
        }
    }

    /// Only loopback spellings here, so that even a broken guard sends nothing off this machine;
    /// private, link-local and metadata ranges are covered address by address in AddressPolicyTests.
    @Test("loopback is refused before any request, in every spelling, and so are other schemes")
    func refusals() async throws {
        try await withFetcher(allowPrivate: false) { fetcher, base, requests in
            let port = base.split(separator: ":").last.map(String.init) ?? "80"
            let forbidden = [
                base + "/card.jpg", "http://localhost:\(port)/card.jpg", "http://[::1]:\(port)/card.jpg",
                "http://2130706433:\(port)/card.jpg", "http://0x7f.0.0.1:\(port)/card.jpg",
                "http://127.1:\(port)/card.jpg",
                "http://[::ffff:127.0.0.1]:\(port)/card.jpg", "ftp://localhost/a.jpg", "file:///etc/passwd",
            ]
            for url in forbidden {
                #expect(await failure { try await fetcher.fetch(url) }?.code == .urlForbidden, "\(url)")
            }
            // Refused before the request, not after an answer: the server was never asked.
            #expect(requests.all == [])
        }
    }
}
