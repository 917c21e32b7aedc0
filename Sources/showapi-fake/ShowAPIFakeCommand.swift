import ArgumentParser
import Foundation
import HummingbirdTLS
import IDCardServe
import IDCardTestSupport

/// Runs the 1429-1 fake as a process, for manual runs, demos against fake data and benchmarks.
/// It is a test tool: the worker cannot select it as a provider.
@main
struct ShowAPIFakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "showapi-fake",
        abstract: "A fake of the 1429-1 API on 127.0.0.1 (tests and benchmarks only). GET /stats tells what it saw."
    )

    @Option(help: "Port; 0 picks a free one") var port = 0
    @Option(name: .customLong("app-key"), help: "The appKey it accepts") var appKey = "test-app-key"
    @Option(name: .customLong("latency-ms"), help: "Milliseconds before each answer") var latencyMilliseconds = 0
    @Option(help: "Strict calls per any sliding second; beyond: -1009") var qps: Int?
    @Option(name: .customLong("error-rate"), help: "Share of calls answered HTTP 502") var errorRate = 0.0
    @Option(name: .customLong("timeout-rate"), help: "Share of calls that hang") var timeoutRate = 0.0
    @Option(name: .customLong("rate-limited-rate"), help: "Share of calls answered -1009") var rateLimitedRate = 0.0
    @Option(name: .customLong("malformed-rate"), help: "Share of calls answered with broken JSON") var malformedRate =
        0.0
    @Option(name: .customLong("drop-rate"), help: "Share of calls whose connection drops mid-answer") var dropRate = 0.0
    @Flag(name: .customLong("quota-exhausted"), help: "Answer every call with -2") var quotaExhausted = false
    @Option(name: .customLong("tls-cert"), help: "Serve https with this certificate chain (PEM); needs --tls-key")
    var tlsCertificate: String?
    @Option(name: .customLong("tls-key"), help: "The certificate's private key (PEM)") var tlsKey: String?

    func run() async throws {
        var configuration = ShowAPIFake.Configuration()
        configuration.appKey = appKey
        configuration.latency = .milliseconds(latencyMilliseconds)
        configuration.strictQPS = qps
        configuration.serverErrorRate = errorRate
        configuration.timeoutRate = timeoutRate
        configuration.rateLimitedRate = rateLimitedRate
        configuration.malformedRate = malformedRate
        configuration.dropRate = dropRate
        configuration.quotaExhausted = quotaExhausted
        var tls: TLSConfiguration?
        if let tlsCertificate, let tlsKey {
            tls = try TLSConfiguration.server(certificateChainFile: tlsCertificate, keyFile: tlsKey)
        } else if tlsCertificate != nil || tlsKey != nil {
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        let scheme = tls == nil ? "http" : "https"
        let fake = ShowAPIFake(configuration: configuration)
        try await fake.serveForever(port: port, tls: tls) { port in
            FileHandle.standardOutput.write(
                Data("showapi-fake listening on \(scheme)://127.0.0.1:\(port)/1429-1\n".utf8)
            )
        }
    }
}
