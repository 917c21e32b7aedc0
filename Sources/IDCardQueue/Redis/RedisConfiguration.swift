import Foundation
import IDCardContract

/// Where Redis is and how to log in: `redis://[user:password@]host:port/db`, or the master a set of
/// Sentinels names, `redis+sentinel://[user:password@]host1:26379,host2:26379/mymaster/db`; with
/// TLS, `rediss://` and `rediss+sentinel://` (the Sentinels and the master both over TLS).
public struct RedisConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var database: Int
    public var username: String?
    public var password: String?
    /// Seconds to wait for a connection or a non-blocking reply before calling Redis unreachable.
    public var timeoutSeconds: Double
    /// *Extension*: Sentinels to ask where the master is; `host` and `port` are then not used.
    public var sentinel: Sentinel?
    /// *Extension*: TLS for every connection (``TLS``); `nil`: plain TCP.
    public var tls: TLS?

    /// *Extension*: a Redis Cluster, reached through any of its nodes; `host`, `port` and
    /// `database` are then not used (a cluster has only database 0).
    public var cluster: Cluster?

    /// One server's address: a Sentinel, or a node of a cluster.
    public struct Node: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { RedisConnector.address(host, port) }
    }

    /// Redis Cluster: the client reads which master serves each slot (`CLUSTER SLOTS`) from any of
    /// the seed nodes, sends each command to the master of its key's slot, follows `MOVED` and
    /// `ASK` redirects, and reads the map again when the cluster's shape changes (a redirect, a
    /// node lost). Replicas are never sent a command. Every key of a queue carries the hash tag
    /// `{Q}`, so a queue's scripts run on one master.
    public struct Cluster: Sendable, Equatable {
        /// Nodes to ask for the slot map; any reachable one will do, masters or replicas.
        public var seeds: [Node]

        public init(seeds: [Node]) {
            self.seeds = seeds
        }
    }

    /// Redis Sentinel: every connection asks a Sentinel where the named master is and checks with
    /// `ROLE` that it is one, so a connection lost, a `READONLY` answer (a demoted master) or a
    /// `+switch-master` announcement leads to the new master.
    public struct Sentinel: Sendable, Equatable {
        public var nodes: [Node]
        /// The name the Sentinels monitor the master under.
        public var masterName: String
        /// The Sentinels' own credentials (`requirepass` / ACL in `sentinel.conf`), apart from the master's.
        public var username: String?
        public var password: String?

        /// A Sentinel's address (port 26379 by default in URLs).
        public typealias Node = RedisConfiguration.Node

        public init(nodes: [Node], masterName: String, username: String? = nil, password: String? = nil) {
            self.nodes = nodes
            self.masterName = masterName
            self.username = username
            self.password = password
        }
    }

    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        database: Int = 0,
        username: String? = nil,
        password: String? = nil,
        timeoutSeconds: Double = 5,
        sentinel: Sentinel? = nil,
        cluster: Cluster? = nil,
        tls: TLS? = nil
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
        self.timeoutSeconds = timeoutSeconds
        self.sentinel = sentinel
        self.cluster = cluster
        self.tls = tls
    }

    /// Parses a `redis://`, `rediss://`, `redis+sentinel://`, `rediss+sentinel://`,
    /// `redis+cluster://host1:7000,host2:7001` or `rediss+cluster://` URL.
    /// Percent-escapes in the user and password are decoded.
    /// - Parameters:
    ///   - password: a password given apart from the URL (a secret file); it replaces the URL's, and
    ///     a lone name before `@` (`redis://worker@host`) is then the user, not a password.
    ///   - sentinelUsername: the Sentinels' own user, for `redis+sentinel://`.
    ///   - sentinelPassword: the Sentinels' own password, for `redis+sentinel://`.
    ///   - tls: the CA, client certificate and server name for a `rediss` URL; given with a plain
    ///     `redis` URL it is refused, rather than silently unused.
    public init(
        url: String,
        password separatePassword: String? = nil,
        sentinelUsername: String? = nil,
        sentinelPassword: String? = nil,
        tls tlsSettings: TLS? = nil
    ) throws(RedisError) {
        let scheme = url.prefix { $0 != ":" }
        guard url.dropFirst(scheme.count).hasPrefix("://"),
            Self.schemes.contains(String(scheme))
        else {
            throw .connection(
                """
                IDOCR_REDIS_URL must start with redis://, rediss:// (TLS), redis+sentinel://, \
                rediss+sentinel://, redis+cluster:// or rediss+cluster://
                """
            )
        }
        let isSentinel = scheme.hasSuffix("+sentinel")
        let isCluster = scheme.hasSuffix("+cluster")
        let isTLS = scheme.hasPrefix("rediss")
        if tlsSettings != nil && !isTLS {
            throw .connection("TLS settings are given, but IDOCR_REDIS_URL is not a rediss:// URL")
        }
        var rest = Substring(url.drop { $0 != "/" }.dropFirst(2))
        self.init()
        if isTLS { tls = tlsSettings ?? TLS() }
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
        let path = rest.firstIndex(of: "/").map { rest[rest.index(after: $0)...] } ?? ""
        let authority = rest.firstIndex(of: "/").map { rest[..<$0] } ?? rest
        var databaseText = path
        if isSentinel {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            guard let name = parts.first, !name.isEmpty else {
                throw .connection(
                    "IDOCR_REDIS_URL: redis+sentinel:// needs the master's name after the hosts (/mymaster/0)"
                )
            }
            databaseText = parts.count > 1 ? parts[1] : ""
            let nodes = try authority.split(separator: ",").map { text throws(RedisError) in
                let (host, port) = try Self.hostAndPort(text, defaultPort: 26379)
                return Sentinel.Node(host: host ?? "127.0.0.1", port: port)
            }
            guard !nodes.isEmpty else {
                throw .connection("IDOCR_REDIS_URL: redis+sentinel:// needs at least one Sentinel host")
            }
            sentinel = Sentinel(
                nodes: nodes,
                masterName: String(name).removingPercentEncodingOrSelf,
                username: sentinelUsername,
                password: sentinelPassword
            )
        } else if isCluster {
            let seeds = try authority.split(separator: ",").map { text throws(RedisError) in
                let (host, port) = try Self.hostAndPort(text, defaultPort: 6379)
                return Node(host: host ?? "127.0.0.1", port: port)
            }
            guard !seeds.isEmpty else {
                throw .connection("IDOCR_REDIS_URL: redis+cluster:// needs at least one node (host:port,host:port)")
            }
            guard databaseText.isEmpty || databaseText == "0" else {
                throw .connection("IDOCR_REDIS_URL: a Redis Cluster has only database 0")
            }
            cluster = Cluster(seeds: seeds)
        } else {
            let (name, number) = try Self.hostAndPort(authority, defaultPort: 6379)
            if let name { host = name }
            port = number
        }
        if !databaseText.isEmpty {
            guard let number = Int(databaseText), number >= 0 else {
                throw .connection("database in IDOCR_REDIS_URL is not a number")
            }
            database = number
        }
    }

    private static let schemes: Set<String> = [
        "redis", "rediss", "redis+sentinel", "rediss+sentinel", "redis+cluster", "rediss+cluster",
    ]

    /// `host`, `host:port`, `[v6]` or `[v6]:port`; `nil` host when empty.
    private static func hostAndPort(_ text: Substring, defaultPort: Int) throws(RedisError) -> (String?, Int) {
        var hostPort = text
        var port = defaultPort
        if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
            guard let number = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(number) else {
                throw .connection("port in IDOCR_REDIS_URL is not a number")
            }
            port = number
            hostPort = hostPort[..<colon]
        }
        let name = hostPort.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return (name.isEmpty ? nil : name, port)
    }

    /// What a connection's errors name: the server, or the Sentinels' master (never a password).
    var endpointDescription: String {
        if let cluster {
            return "Redis Cluster of \(cluster.seeds.map(\.description).joined(separator: ","))"
        }
        if let sentinel {
            return
                "master \(sentinel.masterName) of Sentinels \(sentinel.nodes.map(\.description).joined(separator: ","))"
        }
        return "\(host):\(port)"
    }
}

extension String {
    fileprivate var removingPercentEncodingOrSelf: String { removingPercentEncoding ?? self }
}
