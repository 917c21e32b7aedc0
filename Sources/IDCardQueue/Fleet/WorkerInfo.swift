import Foundation
import IDCardContract

/// What a worker process says of itself in each heartbeat, for the dashboard's list of workers.
public struct WorkerInfo: Sendable, Equatable {
    /// idcard-ocr's version (``ProductVersion/current``).
    public var version: String
    /// Its `IDOCR_CONCURRENCY`: how many jobs it may hold at once.
    public var concurrency: Int
    /// The recognizer it calls (`showapi`, `rapidocr`).
    public var provider: String
    /// When the process started (ISO 8601).
    public var startedAt: String

    public init(version: String, concurrency: Int, provider: String, startedAt: String) {
        self.version = version
        self.concurrency = concurrency
        self.provider = provider
        self.startedAt = startedAt
    }

    func encoded() -> Data {
        JSONValue.object([
            "version": .string(version), "concurrency": .int(Int64(concurrency)), "provider": .string(provider),
            "startedAt": .string(startedAt),
        ]).encoded()
    }

    init?(encoded data: Data) {
        guard let object = JSONValue.parse(data) else { return nil }
        self.init(
            version: object["version"]?.stringValue ?? "?",
            concurrency: Int(object["concurrency"]?.intValue ?? 0),
            provider: object["provider"]?.stringValue ?? "?",
            startedAt: object["startedAt"]?.stringValue ?? "?"
        )
    }
}

/// One registered worker as the fleet's keys show it: what the dashboard lists.
public struct WorkerStatus: Sendable, Equatable {
    public var worker: String
    /// Its last heartbeat (Redis clock, Unix ms) and how long ago that was.
    public var lastHeartbeatMilliseconds: Int64
    public var heartbeatAgeMilliseconds: Int64
    /// Jobs in its processing list now.
    public var inFlight: Int
    /// Why it holds off taking jobs (an account or configuration refusal); `nil` while ready.
    public var pausedReason: String?
    /// What it said of itself; `nil` for a worker of a version before heartbeats carried it.
    public var info: WorkerInfo?
    /// False once it missed heartbeats for the timeout: the reaper gives its jobs back.
    public var isAlive: Bool
}
