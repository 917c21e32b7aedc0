import Crypto
import Foundation
import _CryptoExtras

/// A password stored as scrypt: `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (salt and hash in base64,
/// `+` or `.` and with or without padding, so passlib's `scrypt` hashes are read as well).
///
/// scrypt costs memory as well as time (ln=15, r=8: 32 MiB, ~0.1 s per check here), so a stolen
/// users file is slow to attack; the dashboard runs each check off the async pool.
public struct PasswordHash: Sendable, Equatable {
    /// log2 of scrypt's N.
    public var costLog2: Int
    public var blockSize: Int
    public var parallelism: Int
    public var salt: [UInt8]
    public var hash: [UInt8]

    /// The default cost: `dashboard-user --cost` lowers it for tests only.
    public static let defaultCostLog2 = 15

    /// A new hash of `password` with a random 16-byte salt.
    public static func make(password: String, costLog2: Int = defaultCostLog2) throws -> PasswordHash {
        let salt = (0..<16).map { _ in UInt8.random(in: .min ... .max) }
        var made = PasswordHash(costLog2: costLog2, blockSize: 8, parallelism: 1, salt: salt, hash: [])
        made.hash = try made.derive(password)
        return made
    }

    /// Reads the stored form; `nil` for anything else.
    public init?(encoded text: some StringProtocol) {
        let encoded = String(text)
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].isEmpty, parts[1] == "scrypt" else { return nil }
        var settings: [Substring: Int] = [:]
        for setting in parts[2].split(separator: ",") {
            let pair = setting.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let value = Int(pair[1]) else { return nil }
            settings[pair[0]] = value
        }
        guard let costLog2 = settings["ln"], (1...20).contains(costLog2), let blockSize = settings["r"],
            (1...32).contains(blockSize), let parallelism = settings["p"], (1...16).contains(parallelism),
            let salt = Self.decode(parts[3]), let hash = Self.decode(parts[4]), salt.count >= 8, hash.count >= 16
        else { return nil }
        self.init(costLog2: costLog2, blockSize: blockSize, parallelism: parallelism, salt: salt, hash: hash)
    }

    init(costLog2: Int, blockSize: Int, parallelism: Int, salt: [UInt8], hash: [UInt8]) {
        self.costLog2 = costLog2
        self.blockSize = blockSize
        self.parallelism = parallelism
        self.salt = salt
        self.hash = hash
    }

    public var encoded: String {
        "$scrypt$ln=\(costLog2),r=\(blockSize),p=\(parallelism)$"
            + Data(salt).base64EncodedString() + "$" + Data(hash).base64EncodedString()
    }

    /// True when `password` is the one hashed, compared in constant time. Blocks for the hash's
    /// cost: call it off the async pool.
    public func verify(_ password: String) -> Bool {
        guard let derived = try? derive(password), derived.count == hash.count else { return false }
        return zip(derived, hash).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private func derive(_ password: String) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8),
            salt: salt,
            outputByteCount: hash.isEmpty ? 32 : hash.count,
            rounds: 1 << costLog2,
            blockSize: blockSize,
            parallelism: parallelism
        )
        return key.withUnsafeBytes { Array($0) }
    }

    /// Base64 with `+` or passlib's `.`, padded or not.
    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var standard = text.replacingOccurrences(of: ".", with: "+")
        while standard.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard).map(Array.init)
    }
}
