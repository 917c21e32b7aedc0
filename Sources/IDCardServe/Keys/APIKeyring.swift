import Crypto
import Foundation
import IDCardContract
import IDCardQueue
import IDCardWorker

/// The API keys `serve` accepts, read from a file that holds only their SHA-256 digests: a leaked
/// file, a backup or a `kubectl get secret` does not give anyone a working key.
///
/// One key per line, `#` starts a comment:
///
///     # name      digest of the key                          limits
///     shop-eu     sha256:9f86d081884c7d659a2feaa0c55ad015…   rate=20 burst=40 quota=100000/day
///     backfill    sha256:60303ae22b998861bce3b28f33eec1be…   quota=5000000/month
///     old-app     sha256:fd61a03af4f77d870fc21e05e7e80678…   disabled
///
/// `rate` is requests per second (default none), `burst` requests at once (default a second's
/// worth), `quota` jobs per `day`, `month` (UTC) or in all (`quota=N`). Several lines may share a
/// name (a key being rotated): they share its counters, and should carry the same limits.
/// Keys themselves are random (``newKey()``), so an unsalted digest is as strong as a salted one.
/// ``KeysFile`` reads the file and reads it again when it changes.
public struct APIKeyring: Sendable {
    private let clients: [String: APIClient]

    public var isEmpty: Bool { clients.isEmpty }
    /// Keys listed, disabled ones included.
    public var count: Int { clients.count }

    /// - Parameter source: names the file in errors; a key's digest never appears in them.
    public init(parsing text: String, source: String) throws(ConfigurationError) {
        var clients: [String: APIClient] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            guard !words.isEmpty else { continue }
            let place = "\(source) line \(number + 1)"
            guard words.count >= 2 else { throw ConfigurationError("\(place): give a name and sha256:<digest>") }
            guard APIClient.isValidName(words[0]) else {
                throw ConfigurationError("\(place): a name is 1-32 characters of A-Za-z0-9_-")
            }
            guard let digest = Self.digest(in: words[1]) else {
                throw ConfigurationError("\(place): the key's digest must be sha256: and 64 hex digits")
            }
            guard clients[digest] == nil else { throw ConfigurationError("\(place): this key is listed twice") }
            clients[digest] = try Self.client(named: words[0], settings: words.dropFirst(2), at: place)
        }
        self.clients = clients
    }

    /// The client whose key this is; `nil` for a key the file does not list.
    public func client(presenting key: String) -> APIClient? {
        clients[Self.digest(of: key)]
    }

    /// The hex SHA-256 of a key, as the file stores it (without `sha256:`).
    public static func digest(of key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).lowercaseHex
    }

    /// A new key: 32 hex digits (128 random bits), the shape of a 1429-1 appKey, so clients that
    /// check its form accept it.
    public static func newKey() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }.lowercaseHex
    }

    /// The keys-file line for `key`, with the settings given as `rate=…` words.
    public static func line(name: String, key: String, settings: [String]) -> String {
        ([name, "sha256:" + digest(of: key)] + settings).joined(separator: " ")
    }

    private static func digest(in word: String) -> String? {
        guard word.hasPrefix("sha256:") else { return nil }
        let hex = word.dropFirst(7).lowercased()
        guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else { return nil }
        return hex
    }

    static func client(
        named name: String,
        settings: some Sequence<String>,
        at place: String
    ) throws(ConfigurationError) -> APIClient {
        var rate = 0.0
        var burst: Int?
        var quota = 0
        var period = ClientLimiter.Limits.Period.total
        var disabled = false
        for setting in settings {
            let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
            switch (parts.first, parts.count == 2 ? parts[1] : nil) {
            case ("disabled", nil): disabled = true
            case ("rate", let value?):
                guard let value = Double(value), value.isFinite, value >= 0 else {
                    throw ConfigurationError("\(place): rate is requests per second, a number >= 0")
                }
                rate = value
            case ("burst", let value?):
                guard let value = Int(value), value >= 1 else {
                    throw ConfigurationError("\(place): burst is a whole number >= 1")
                }
                burst = value
            case ("quota", let value?):
                let amount = value.split(separator: "/", maxSplits: 1).map(String.init)
                guard let count = Int(amount[0]), count >= 0,
                    amount.count == 1 || ["day", "month"].contains(amount[1])
                else {
                    throw ConfigurationError("\(place): quota is N, N/day or N/month")
                }
                quota = count
                period = amount.count == 1 ? .total : ClientLimiter.Limits.Period(rawValue: amount[1]) ?? .total
            default:
                throw ConfigurationError(
                    "\(place): unknown setting \(parts.first ?? ""); know rate, burst, quota, disabled"
                )
            }
        }
        let limits = ClientLimiter.Limits(requestsPerSecond: rate, burst: burst, quota: quota, period: period)
        return APIClient(name: name, limits: limits, disabled: disabled)
    }
}
