import Crypto
import Foundation
import IDCardContract
import IDCardWorker
import Logging
import Metrics
import NIOConcurrencyHelpers
import ServiceLifecycle

/// The keys file as `serve` sees it now: read at start, then read again every
/// ``ServeConfiguration/keysReloadInterval`` so that a key added, disabled or removed takes
/// effect without a restart — a Kubernetes Secret mounted as a file changes in place this way.
///
/// A file that no longer parses, cannot be read or lists no key leaves the keys as they were
/// (an error in the log, `idocr_serve_keys_reloads_total{outcome="failed"}`): a half-written
/// edit must not lock every client out. The log names the file and the line, never a digest.
public final class KeysFile: Service, Sendable {
    public static let help: [String: String] = [
        "idocr_serve_keys_reloads_total":
            "Times serve read a changed keys file, by outcome (ok, or failed: the keys before it kept).",
        "idocr_serve_keys": "Keys serve accepts now, disabled ones included.",
    ]

    let path: String
    let setting: String
    let interval: Duration
    let logger: Logger
    private let state: NIOLockedValueBox<(keyring: APIKeyring, digest: String)>
    private let keysGauge = Gauge(label: "idocr_serve_keys")

    /// Reads the file once: at start a file that cannot be read or parsed stops `serve`.
    /// - Parameters:
    ///   - setting: the variable that named the file, for errors.
    ///   - interval: how often to look for a change; `.zero` never.
    public init(path: String, setting: String, interval: Duration, logger: Logger) throws(ConfigurationError) {
        let (text, digest) = try Self.contents(of: path, setting: setting)
        let keyring = try Self.keyring(in: text, path: path, setting: setting)
        self.path = path
        self.setting = setting
        self.interval = interval
        self.logger = logger
        self.state = NIOLockedValueBox((keyring, digest))
        keysGauge.record(keyring.count)
    }

    /// The keys as of the last good read.
    public var keyring: APIKeyring { state.withLockedValue { $0.keyring } }

    public func run() async throws {
        guard interval > .zero else {
            try? await gracefulShutdown()
            return
        }
        // The wait for the next look ends at shutdown: a long interval must not hold the process.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: self.interval)
                self.reload()
            }
        }
    }

    /// Reads the file again and takes it when it changed and parses; otherwise keeps the keys.
    /// Returns whether the keys changed.
    @discardableResult
    public func reload() -> Bool {
        do {
            let (text, digest) = try Self.contents(of: path, setting: setting)
            guard digest != state.withLockedValue({ $0.digest }) else { return false }
            let keyring = try Self.keyring(in: text, path: path, setting: setting)
            state.withLockedValue { $0 = (keyring, digest) }
            keysGauge.record(keyring.count)
            Counter(label: "idocr_serve_keys_reloads_total", dimensions: [("outcome", "ok")]).increment()
            logger.notice("keys file reloaded", metadata: ["file": "\(path)", "keys": "\(keyring.count)"])
            return true
        } catch {
            Counter(label: "idocr_serve_keys_reloads_total", dimensions: [("outcome", "failed")]).increment()
            logger.error(
                "keys file not reloaded, the keys before it stay in force",
                metadata: ["error": "\(error.description)"]
            )
            return false
        }
    }

    /// The file's text and the SHA-256 of its bytes, which tells a changed file from the same.
    private static func contents(of path: String, setting: String) throws(ConfigurationError) -> (String, String) {
        guard let data = FileManager.default.contents(atPath: path),
            let text = String(data: data, encoding: .utf8)
        else {
            throw ConfigurationError("\(setting): cannot read \(path)")
        }
        return (text, SHA256.hash(data: data).lowercaseHex)
    }

    private static func keyring(in text: String, path: String, setting: String) throws(ConfigurationError) -> APIKeyring
    {
        let keyring = try APIKeyring(parsing: text, source: path)
        guard !keyring.isEmpty else { throw ConfigurationError("\(setting): \(path) lists no key") }
        return keyring
    }
}
