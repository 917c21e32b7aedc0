import IDCardContract

/// A Lua script run atomically inside Redis; ``RedisClient`` caches its SHA-1 per connection pool.
public struct RedisScript: Sendable {
    public let name: String
    public let source: String

    public init(name: String, source: String) {
        self.name = name
        self.source = source
    }
}
