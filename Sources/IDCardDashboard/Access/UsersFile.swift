import Foundation
import IDCardWorker

/// The dashboard's users, from `IDOCR_DASHBOARD_USERS_FILE`: one `NAME ROLES HASH` line each
/// (`alice operator,revealer $scrypt$…`), `#` comments and blank lines ignored. Read at start:
/// restart the dashboard to take an edit.
public struct UsersFile: Sendable {
    public struct User: Sendable, Equatable {
        public var name: String
        public var roles: Set<Role>
        public var password: PasswordHash
    }

    public let users: [String: User]

    /// A name: 1–64 characters of `A-Za-z0-9._@-`.
    public static func isValidName(_ name: some StringProtocol) -> Bool {
        (1...64).contains(name.count)
            && name.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._@-".unicodeScalars.contains($0))
            }
    }

    /// The line `dashboard-user` prints.
    public static func line(name: String, roles: Set<Role>, password: PasswordHash) -> String {
        "\(name) \(roles.map(\.rawValue).sorted().joined(separator: ",")) \(password.encoded)"
    }

    public init(path: String) throws(ConfigurationError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("IDOCR_DASHBOARD_USERS_FILE: cannot read \(path)")
        }
        try self.init(parsing: String(decoding: data, as: UTF8.self), source: path)
    }

    /// - Throws: naming the line (never its hash) when a line is not `NAME ROLES HASH`.
    public init(parsing text: String, source: String) throws(ConfigurationError) {
        var users: [String: User] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 3, Self.isValidName(fields[0]) else {
                throw ConfigurationError("\(source) line \(index + 1): not NAME ROLES HASH")
            }
            guard let roles = Role.parse(list: fields[1]) else {
                throw ConfigurationError(
                    "\(source) line \(index + 1): roles are \(Role.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            guard let hash = PasswordHash(encoded: fields[2]) else {
                throw ConfigurationError(
                    "\(source) line \(index + 1): the hash is not $scrypt$ln=…,r=…,p=…$salt$hash "
                        + "(make it with idcard-ocr dashboard-user)"
                )
            }
            let name = String(fields[0])
            guard users[name] == nil else { throw ConfigurationError("\(source) line \(index + 1): \(name) again") }
            users[name] = User(name: name, roles: roles, password: hash)
        }
        self.users = users
    }
}
