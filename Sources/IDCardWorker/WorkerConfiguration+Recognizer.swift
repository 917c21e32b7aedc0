import AsyncHTTPClient
import IDCardContract
import IDCardRecognition
import NIOPosix

extension WorkerConfiguration {
    /// The process's one HTTP client. Redirects come back to the caller, so the imgUrl fetcher
    /// checks every hop's address itself. One connection per job in flight: HTTP/1 carries one
    /// call at a time, and the client's default of 8 per host would cap a process at 8 calls
    /// in flight whatever `IDOCR_CONCURRENCY` says (8 calls/s against a 1 s API).
    ///
    /// No tracer: the worker exports no traces, and the client's default (the bootstrapped no-op
    /// tracer) still builds a span and its attributes per call.
    ///
    /// One event-loop thread (``httpEventLoopGroup``), not NIO's one per core: the calls are I/O,
    /// and K processes on a pod's cores would run K × cores event loops beside their task pools.
    public func makeHTTPClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(
                connect: .seconds(Int64(ShowAPIConfiguration.connectTimeout)),
                read: .milliseconds(Int64(recognizerTimeout * 1000))
            ),
            connectionPool: .init(
                idleTimeout: .seconds(60),
                concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, concurrency)
            )
        )
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroupProvider: .shared(Self.httpEventLoopGroup), configuration: configuration)
    }

    /// Lives as long as the process, like NIO's singleton group it replaces. One thread carried
    /// 12,000 calls/s in `scripts/benchmark`; TLS at a paid API's rates adds little to it.
    static let httpEventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// The recognizer `provider` names: RapidOCR's shares `httpClient`; the 1429-1 API's keeps
    /// connections of its own (``EndpointClient``) on the same event loop.
    public func makeRecognizer(httpClient: HTTPClient) throws(ConfigurationError) -> any Recognizer {
        switch provider {
        case "showapi":
            guard let appKey = showAPIAppKey, !appKey.isEmpty else {
                throw ConfigurationError(
                    "IDOCR_PROVIDER=showapi needs the appKey: set SHOWAPI_APP_KEY or SHOWAPI_APP_KEY_FILE"
                )
            }
            do {
                return try ShowAPIRecognizer(
                    configuration: ShowAPIConfiguration(
                        url: showAPIURL,
                        appKey: appKey,
                        timeout: recognizerTimeout,
                        caFile: showAPICAFile
                    ),
                    group: Self.httpEventLoopGroup,
                    urlGuard: URLGuard(allowPrivateAddresses: allowPrivateURLs)
                )
            } catch {
                throw ConfigurationError("SHOWAPI_URL or SHOWAPI_CA_FILE: \(error)")
            }
        case "rapidocr":
            let fetcher = ImageFetcher(
                configuration: .init(allowPrivateAddresses: allowPrivateURLs, maxBytes: maxImageBytes),
                httpClient: httpClient
            )
            let rapidOCR = RapidOCRConfiguration(url: rapidOCRURL, timeout: recognizerTimeout, limits: intakeLimits)
            return RapidOCRRecognizer(configuration: rapidOCR, httpClient: httpClient, fetcher: fetcher)
        default:
            throw ConfigurationError("IDOCR_PROVIDER must be showapi or rapidocr, not \(provider)")
        }
    }
}
