import Foundation
import Hummingbird
import IDCardContract
import IDCardQueue

/// The pages that only look: nothing here changes a key.
extension DashboardServer {
    /// Dead letters read at most to fill one page of a narrow filter.
    static let scanLimit = 2000
    static let pageSize = 50

    func snapshot(_ entry: (name: String, queue: JobQueue, rateKeys: RateKeys)) async throws -> QueueSnapshot {
        let stats = try await entry.queue.stats(heartbeatTimeout: heartbeatTimeout)
        let history = try await entry.queue.history()
        let rate = try await entry.queue.rateStatus(keys: entry.rateKeys)
        return QueueSnapshot(stats: stats, rates: QueueRates.lastMinute(history: history), rate: rate)
    }

    func overview(_ context: Context) async -> Response {
        guard let session = context.session else { return .redirect(to: "/login") }
        do {
            var snapshots: [QueueSnapshot] = []
            for entry in queues { snapshots.append(try await snapshot(entry)) }
            return page(
                .ok,
                OverviewPage(session: session, flash: sessions.takeFlash(for: context.sessionID), queues: snapshots)
            )
        } catch {
            return unavailable(context, error)
        }
    }

    func queuePage(_ context: Context) async -> Response {
        guard let session = context.session else { return .redirect(to: "/login") }
        guard let entry = routeQueue(context) else { return notFound(context, "This dashboard shows no such queue.") }
        do {
            let snapshot = try await snapshot(entry)
            let workers = try await entry.queue.workerStatuses(heartbeatTimeout: heartbeatTimeout)
            return page(
                .ok,
                QueuePage(
                    session: session,
                    flash: sessions.takeFlash(for: context.sessionID),
                    snapshot: snapshot,
                    workers: workers,
                    mayAct: mayAct(session)
                )
            )
        } catch {
            return unavailable(context, error)
        }
    }

    func deadLetters(_ request: Request, _ context: Context) async -> Response {
        guard let session = context.session else { return .redirect(to: "/login") }
        guard let entry = routeQueue(context) else { return notFound(context, "This dashboard shows no such queue.") }
        let query = request.uri.queryParameters
        let filter = DeadLetterFilter(
            code: query.get("code"),
            since: query.get("since"),
            until: query.get("until")
        )
        let from = max(0, query.get("from").flatMap { Int($0) } ?? 0)
        do {
            let scan = try await scanDeadLetters(entry.queue, filter: filter, from: from)
            let total = try await entry.queue.stats(heartbeatTimeout: heartbeatTimeout).dead
            return page(
                .ok,
                DeadLettersPage(
                    session: session,
                    flash: sessions.takeFlash(for: context.sessionID),
                    queue: entry.name,
                    filter: filter,
                    rows: scan.rows,
                    next: scan.next,
                    from: from,
                    total: total,
                    scanned: scan.scanned,
                    mayAct: mayAct(session)
                )
            )
        } catch {
            return unavailable(context, error)
        }
    }

    /// Reads the dead list from position `from` until a page of letters that pass `filter`, the
    /// end of the list, the range's start (the list is newest first) or ``scanLimit`` letters.
    func scanDeadLetters(
        _ queue: JobQueue,
        filter: DeadLetterFilter,
        from: Int
    ) async throws -> (rows: [DeadLetterRow], next: Int?, scanned: Int) {
        var rows: [DeadLetterRow] = []
        var position = from
        let batch = filter.isEmpty ? Self.pageSize : 200
        while rows.count < Self.pageSize, position - from < Self.scanLimit {
            let letters = try await queue.deadLetters(limit: batch, offset: position)
            for (element, letter) in letters {
                position += 1
                guard let letter else { continue }
                if filter.isPast(letter) { return (rows, nil, position - from) }
                if filter.matches(letter) { rows.append(DeadLetterRow(letter: letter, elementBytes: element.count)) }
                if rows.count == Self.pageSize { break }
            }
            if letters.count < batch { return (rows, nil, position - from) }
        }
        return (rows, position, position - from)
    }

    func purgePage(_ context: Context) async -> Response {
        guard let session = context.session else { return .redirect(to: "/login") }
        guard let entry = routeQueue(context) else { return notFound(context, "This dashboard shows no such queue.") }
        guard mayAct(session) else { return refusal(context, action: "purge", queue: entry.name) }
        do {
            let dead = try await entry.queue.stats(heartbeatTimeout: heartbeatTimeout).dead
            return page(.ok, PurgePage(session: session, queue: entry.name, dead: dead, error: nil))
        } catch {
            return unavailable(context, error)
        }
    }

    func jobPage(_ context: Context, revealing field: String?) async -> Response {
        guard let session = context.session else { return .redirect(to: "/login") }
        guard let entry = routeQueue(context), let id = context.parameters.get("id")?.removingPercentEncoding else {
            return notFound(context, "This dashboard shows no such queue.")
        }
        do {
            var result = try await entry.queue.result(id: id)
            var sealed = false
            if let stored = result, stored.hasSealedBody {
                if let encryptionKeys, let opened = try? stored.openingBody(with: encryptionKeys) {
                    result = opened
                } else {
                    sealed = true
                }
            }
            return page(
                .ok,
                JobPage(
                    session: session,
                    flash: sessions.takeFlash(for: context.sessionID),
                    queue: entry.name,
                    id: id,
                    result: result,
                    sealed: sealed,
                    revealed: field,
                    mayReveal: session.may(.reveal)
                )
            )
        } catch {
            return unavailable(context, error)
        }
    }
}
