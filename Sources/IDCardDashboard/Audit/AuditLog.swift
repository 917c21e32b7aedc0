import Logging

/// Who did what from the dashboard: one log line per sign-in, refusal, action and reveal, with
/// `"audit":"true"` so a log pipeline can route them apart. A line names the user, the queue, the
/// job and the field, never a field's value, a password or a token.
public struct AuditLog: Sendable {
    /// What an audit line records.
    public enum Event: String, Sendable {
        case login
        case loginFailed = "login_failed"
        case logout, requeue, purge, pause, resume, reveal, refused
    }

    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func record(
        _ event: Event,
        user: String,
        remote: String?,
        queue: String? = nil,
        _ details: [String: String] = [:]
    ) {
        var metadata: Logger.Metadata = ["audit": "true", "event": "\(event.rawValue)", "user": "\(user)"]
        if let remote { metadata["remote"] = "\(remote)" }
        if let queue { metadata["queue"] = "\(queue)" }
        for (key, value) in details { metadata[key] = "\(value)" }
        logger.notice("audit", metadata: metadata)
    }
}
