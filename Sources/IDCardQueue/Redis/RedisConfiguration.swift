import Foundation

/// Where Redis is and how to log in, parsed from `redis://[user:password@]host:port/db`.
public struct RedisConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var database: Int
    public var username: String?
    public var password: String?
    /// Seconds to wait for a connection or a non-blocking reply before calling Redis unreachable.
    public var timeoutSeconds: Double

    public init(
        host: String = "127.0.0.1", port: Int = 6379, database: Int = 0,
        username: String? = nil, password: String? = nil, timeoutSeconds: Double = 5
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
        self.timeoutSeconds = timeoutSeconds
    }

    /// Parses a `redis://` URL. Percent-escapes in the user and password are decoded.
    /// - Parameter password: a password given apart from the URL (a secret file); it replaces the
    ///   URL's, and a lone name before `@` (`redis://worker@host`) is then the user, not a password.
    public init(url: String, password separatePassword: String? = nil) throws(RedisError) {
        guard url.hasPrefix("redis://") else {
            throw .connection("IDOCR_REDIS_URL must start with redis:// (TLS is not built into hiredis 0.14; use a tunnel)")
        }
        var rest = Substring(url.dropFirst("redis://".count))
        self.init()
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = String(credentials[..<colon]).removingPercentEncodingOrSelf
                username = user.isEmpty ? nil : user
                password = String(credentials[credentials.index(after: colon)...]).removingPercentEncodingOrSelf
            } else if !credentials.isEmpty {
                let name = String(credentials).removingPercentEncodingOrSelf
                if separatePassword == nil { password = name } else { username = name }
            }
        }
        if let separatePassword { password = separatePassword }
        var hostPort = rest
        if let slash = rest.firstIndex(of: "/") {
            hostPort = rest[..<slash]
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty {
                guard let number = Int(db), number >= 0 else { throw .connection("database in IDOCR_REDIS_URL is not a number") }
                database = number
            }
        }
        if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
            guard let number = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(number) else {
                throw .connection("port in IDOCR_REDIS_URL is not a number")
            }
            port = number
            hostPort = hostPort[..<colon]
        }
        let name = hostPort.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if !name.isEmpty { host = String(name) }
    }
}

extension String {
    fileprivate var removingPercentEncodingOrSelf: String { removingPercentEncoding ?? self }
}
