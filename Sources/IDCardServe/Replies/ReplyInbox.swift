import Foundation
import IDCardContract
import IDCardQueue
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// The results of this process's synchronous requests: one `replyTo` list per `serve` process,
/// read by one loop, each result handed to the requests waiting for its job id.
///
/// One list and one blocking connection serve every request in flight, however many (a list per
/// request would need a blocking connection each). A request registers its job id before the
/// job is pushed, so a result that comes back at once is not missed; a result nobody waits for
/// any more (its request timed out) is dropped here and stays readable under its result key.
public final class ReplyInbox: Service, Sendable {
    /// The list workers push this process's results onto: `P:{Q}:reply:serve.<instance>`.
    public let list: String
    private let queue: JobQueue
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    private struct State {
        var nextToken = 0
        /// job id → the requests waiting for it.
        var waiting: [String: [Int: Waiter]] = [:]
    }

    private enum Waiter {
        /// Registered; nothing arrived yet, nobody suspended yet.
        case expecting
        case suspended(CheckedContinuation<Data?, Never>)
        case arrived(Data)
        case cancelled
    }

    /// A registration: pass it to ``wait(for:)`` once the job is pushed.
    public struct Ticket: Sendable {
        let id: String
        let token: Int
    }

    public init(queue: JobQueue, instance: String, logger: Logger) {
        self.queue = queue
        self.list = queue.keys.reply("serve.\(instance)")
        self.logger = logger
    }

    /// Reads the list until graceful shutdown (after the HTTP server, listed before it, has
    /// drained its requests), then returns.
    public func run() async throws {
        let stopping = NIOLockedValueBox(false)
        try await withGracefulShutdownHandler {
            var failures = 0
            while !stopping.withLockedValue({ $0 }), !Task.isCancelled {
                do {
                    for reply in try await queue.takeReplies(on: list, timeoutSeconds: 1, max: 256) {
                        deliver(reply)
                    }
                    failures = 0
                } catch is CancellationError {
                    return
                } catch {
                    failures += 1
                    if failures == 1 { logger.warning("reply list unreadable", metadata: ["reason": "\(error)"]) }
                    try await Task.sleep(for: .milliseconds(min(1000, 50 * failures)))
                }
            }
        } onGracefulShutdown: {
            stopping.withLockedValue { $0 = true }
        }
    }

    /// Registers a request for the result of job `id`; do it before pushing the job.
    public func expect(_ id: String) -> Ticket {
        state.withLockedValue { state in
            state.nextToken += 1
            state.waiting[id, default: [:]][state.nextToken] = .expecting
            return Ticket(id: id, token: state.nextToken)
        }
    }

    /// The result of the ticket's job, or `nil` once the task is cancelled (its timeout).
    /// Always ends the registration.
    public func wait(for ticket: Ticket) async -> Data? {
        defer { forget(ticket) }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Data?, Never>) in
                let ready: Data?? = state.withLockedValue { state in
                    switch state.waiting[ticket.id]?[ticket.token] {
                    case .arrived(let data): return .some(data)
                    case .cancelled, nil: return .some(nil)
                    case .expecting, .suspended:
                        state.waiting[ticket.id]?[ticket.token] = .suspended(continuation)
                        return .none
                    }
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let continuation: CheckedContinuation<Data?, Never>? = state.withLockedValue { state in
                guard let waiter = state.waiting[ticket.id]?[ticket.token] else { return nil }
                state.waiting[ticket.id]?[ticket.token] = .cancelled
                if case .suspended(let continuation) = waiter { return continuation }
                return nil
            }
            continuation?.resume(returning: nil)
        }
    }

    /// Ends a registration that will not be waited on (the push failed).
    public func forget(_ ticket: Ticket) {
        state.withLockedValue { state in
            state.waiting[ticket.id]?[ticket.token] = nil
            if state.waiting[ticket.id]?.isEmpty == true { state.waiting[ticket.id] = nil }
        }
    }

    /// Requests waiting now (a gauge's reading).
    public var waitingCount: Int { state.withLockedValue { $0.waiting.values.reduce(0) { $0 + $1.count } } }

    private func deliver(_ reply: Data) {
        guard let id = ReceivedJob.validID(JSONValue.parse(reply)?["id"]) else { return }
        let continuations: [CheckedContinuation<Data?, Never>] = state.withLockedValue { state in
            guard let waiters = state.waiting[id] else { return [] }
            var resumed: [CheckedContinuation<Data?, Never>] = []
            for (token, waiter) in waiters {
                switch waiter {
                case .expecting: state.waiting[id]?[token] = .arrived(reply)
                case .suspended(let continuation):
                    resumed.append(continuation)
                    state.waiting[id]?[token] = .arrived(reply)
                case .arrived, .cancelled: break
                }
            }
            return resumed
        }
        for continuation in continuations { continuation.resume(returning: reply) }
    }
}
