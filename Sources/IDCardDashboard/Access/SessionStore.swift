import Crypto
import Foundation
import IDCardContract
import NIOConcurrencyHelpers

/// The sessions of one dashboard process, in memory: a restart signs everyone out, and several
/// replicas need sticky sessions (or one replica: a dashboard's traffic is a few people).
/// Sessions end after ``idle`` without a request and ``lifetime`` in all; only a digest of each
/// id is kept, so the table holds nothing a cookie thief could replay from a heap dump.
public final class SessionStore: Sendable {
    public let idle: Duration
    public let lifetime: Duration
    /// Most sessions at once; the oldest go first beyond it.
    public let capacity: Int
    private let sessions = NIOLockedValueBox<[String: Session]>([:])

    public init(idle: Duration, lifetime: Duration, capacity: Int = 10_000) {
        self.idle = idle
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// A new session; returns the id for its cookie.
    public func open(user: String, roles: Set<Role>, now: ContinuousClock.Instant = .now) -> String {
        let id = Self.randomToken()
        let session = Session(
            user: user,
            roles: roles,
            csrfToken: Self.randomToken(),
            createdAt: now,
            lastSeen: now,
            flash: nil
        )
        sessions.withLockedValue { sessions in
            sessions = sessions.filter { self.isLive($0.value, now: now) }
            if sessions.count >= capacity, let oldest = sessions.min(by: { $0.value.createdAt < $1.value.createdAt }) {
                sessions[oldest.key] = nil
            }
            sessions[Self.digest(id)] = session
        }
        return id
    }

    /// The live session of `id`, its idle clock restarted unless `touching` is false (the page's
    /// own polling, which must not keep a forgotten tab signed in); `nil` when unknown or expired.
    public func session(for id: String?, touching: Bool = true, now: ContinuousClock.Instant = .now) -> Session? {
        guard let id, !id.isEmpty else { return nil }
        let key = Self.digest(id)
        return sessions.withLockedValue { sessions in
            guard var session = sessions[key] else { return nil }
            guard isLive(session, now: now) else {
                sessions[key] = nil
                return nil
            }
            if touching {
                session.lastSeen = now
                sessions[key] = session
            }
            return session
        }
    }

    /// Sets the message the next page shows.
    public func flash(_ message: String, for id: String?) {
        guard let id else { return }
        sessions.withLockedValue { $0[Self.digest(id)]?.flash = message }
    }

    /// Takes the message, so it shows once.
    public func takeFlash(for id: String?) -> String? {
        guard let id else { return nil }
        return sessions.withLockedValue { sessions in
            let key = Self.digest(id)
            defer { sessions[key]?.flash = nil }
            return sessions[key]?.flash
        }
    }

    public func close(_ id: String?) {
        guard let id else { return }
        _ = sessions.withLockedValue { $0.removeValue(forKey: Self.digest(id)) }
    }

    public var count: Int { sessions.withLockedValue { $0.count } }

    private func isLive(_ session: Session, now: ContinuousClock.Instant) -> Bool {
        now - session.lastSeen < idle && now - session.createdAt < lifetime
    }

    /// 32 random bytes in hex: a session id or a CSRF token.
    static func randomToken() -> String {
        (0..<32).map { _ in UInt8.random(in: .min ... .max) }.lowercaseHex
    }

    static func digest(_ id: String) -> String {
        SHA256.hash(data: Data(id.utf8)).lowercaseHex
    }
}
