import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import IDCardContract
import IDCardQueue
import IDCardRecognition
import IDCardWorker
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// `idcard-ocr serve`: the 1429-1 API answered by the fleet (`POST /1429-1`), and an HTTP way in
/// for producers without Redis (`/v1/jobs`). Every request becomes jobs on the queue, so the
/// fleet's quota, dedupe, retries and dead letters apply to it as to any job.
///
/// What it holds is shared by every request: the keys, the client limiter, the queue and the
/// reply inbox. ``application(onRunning:)`` is the HTTP server, a `Service`; run it in one
/// group with ``inbox`` and ``keys``, listed before it so that they outlive the requests that
/// drain.
public final class ServeServer: Sendable {
    public let configuration: ServeConfiguration
    public let inbox: ReplyInbox
    let keys: KeysFile
    let queue: JobQueue
    let limiter: ClientLimiter
    let encryptionKeys: EncryptionKeys?
    let intakeLimits: IntakeLimits
    let metrics = ServeMetrics()
    let logger: Logger
    private let inFlight = NIOLockedValueBox(0)

    /// - Parameters:
    ///   - queue: the queue requests' jobs go to (``ServeConfiguration/queue``).
    ///   - prefix: the key prefix, for the clients' limiter keys.
    ///   - resultTTL: how long results live: a job is charged to its client once in this time.
    ///   - instance: this process's name, for its reply list (the worker id form).
    public init(
        configuration: ServeConfiguration,
        keys: KeysFile,
        queue: JobQueue,
        prefix: String,
        resultTTL: Int,
        instance: String,
        encryptionKeys: EncryptionKeys?,
        intakeLimits: IntakeLimits,
        logger: Logger
    ) {
        self.configuration = configuration
        self.keys = keys
        self.queue = queue
        self.limiter = ClientLimiter(queue: queue, prefix: prefix, chargeSeconds: resultTTL)
        self.inbox = ReplyInbox(queue: queue, instance: instance, logger: logger)
        self.encryptionKeys = encryptionKeys
        self.intakeLimits = intakeLimits
        self.logger = logger
    }

    /// The HTTP server, HTTPS when the configuration names a certificate. `onRunning` is told the
    /// bound address once it listens (port 0 picks one).
    /// - Throws: ``ConfigurationError`` when the certificate or its key cannot be read.
    public func application(
        onRunning: @escaping @Sendable (SocketAddress?) async -> Void = { _ in }
    ) throws(ConfigurationError) -> some ApplicationProtocol {
        let router = Router()
        router.add(
            middleware: AllowedMethods(
                routes: [
                    .init("/1429-1", .post), .init("/v1/jobs", .post), .init("/v1/jobs/*", .get),
                    .init("/openapi.yaml", .get), .init("/healthz", .get),
                ],
                refusal: { allowed in
                    self.jsonError(
                        .methodNotAllowed,
                        "method_not_allowed",
                        "this path takes " + allowed.map(\.rawValue).joined(separator: ", ")
                    )
                }
            )
        )
        router.post("/1429-1") { request, _ in await self.showAPI(request) }
        router.post("/v1/jobs") { request, _ in await self.submitJobs(request) }
        router.get("/v1/jobs/:id") { request, context in
            // The router hands the segment over as sent: `%3A` is a `:` of the id.
            await self.getJob(request, id: context.parameters.get("id")?.removingPercentEncoding ?? "")
        }
        router.get("/openapi.yaml") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/yaml; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml))
            )
        }
        router.get("/healthz") { _, _ in "ok\n" }
        var serverLogger = logger
        serverLogger.logLevel = .warning
        return Application(
            router: router,
            server: try server(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in await onRunning(channel.localAddress) },
            logger: serverLogger
        )
    }

    /// HTTP/1.1 with keep-alive, inside TLS when a certificate is configured.
    private func server() throws(ConfigurationError) -> HTTPServerBuilder {
        let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: TimeAmount(configuration.idleTimeout)))
        guard let certificateFile = configuration.tlsCertificateFile, let keyFile = configuration.tlsKeyFile else {
            return http1
        }
        do {
            let tls = try TLSConfiguration.server(certificateChainFile: certificateFile, keyFile: keyFile)
            return try .tls(http1, tlsConfiguration: tls)
        } catch {
            throw ConfigurationError(
                "IDOCR_SERVE_TLS_CERT_FILE / IDOCR_SERVE_TLS_KEY_FILE: cannot use \(certificateFile) with "
                    + "\(keyFile) (\(error)); give a PEM certificate chain and its PEM private key"
            )
        }
    }

    /// Runs `body` as one of the requests in flight, or answers `busy` past the limit.
    func admitted(_ busy: () -> Response, _ body: () async -> Response) async -> Response {
        let count = inFlight.withLockedValue { count -> Int? in
            guard count < configuration.maxInFlight else { return nil }
            count += 1
            return count
        }
        guard let count else { return busy() }
        metrics.inFlight(count)
        let response = await body()
        metrics.inFlight(
            inFlight.withLockedValue { count in
                count -= 1
                return count
            }
        )
        return response
    }

    /// The client a request's key names, with the refusal to answer when there is none.
    enum KeyCheck {
        case client(APIClient)
        case missing, unknown, disabled
    }

    func check(key: String?) -> KeyCheck {
        guard let key, !key.isEmpty else { return .missing }
        guard let client = keys.keyring.client(presenting: key) else { return .unknown }
        return client.disabled ? .disabled : .client(client)
    }

    /// A stored result, its body opened when it was sealed and the keys are given.
    func opened(_ result: JobResult) -> JobResult? {
        guard result.hasSealedBody else { return result }
        guard let encryptionKeys, let opened = try? result.openingBody(with: encryptionKeys) else {
            logger.error("a result's body is sealed and cannot be opened: give serve the encryption keys")
            return nil
        }
        return opened
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        self = .nanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        )
    }
}
