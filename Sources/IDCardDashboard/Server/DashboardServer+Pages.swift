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
        let stats = try await entry.queue.stats(heartbeatTimeout: heartbeatTimeout, oldestWait: true)
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
        let from = min(max(0, query.get("from").flatMap { Int($0) } ?? 0), 100_000_000)
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
            // Summaries: a letter's job (an image, up to megabytes) stays in Redis.
            let letters = try await queue.deadLetterSummaries(offset: position, count: batch)
            var read = 0
            for entry in letters {
                position += 1
                read += 1
                guard let letter = entry.letter else { continue }
                if filter.isPast(letter) { return (rows, nil, position - from) }
                if filter.matches(letter) {
                    rows.append(
                        DeadLetterRow(
                            letter: letter,
                            elementBytes: entry.bytes,
                            summarized: entry.summarized,
                            reference: letter.id.map(links.reference(for:))
                        )
                    )
                }
                if rows.count == Self.pageSize { break }
            }
            // The end of the list, unless the page filled before this batch's last letter.
            if letters.count < batch, read == letters.count { return (rows, nil, position - from) }
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

    /// - Parameter revealing: the field a reveal asked for and whose session: shown in full, and
    ///   audited, when the result has it to show.
    func jobPage(_ context: Context, revealing: (field: String, session: Session)?) async -> Response {
        guard let session = context.session else { return .redirect(to: "/login") }
        guard let entry = routeQueue(context) else { return notFound(context, "This dashboard shows no such queue.") }
        guard let segment = context.parameters.get("id")?.removingPercentEncoding, let id = links.id(from: segment)
        else {
            return notFound(
                context,
                "This link is from before the dashboard restarted: open the job from its list again."
            )
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
            if let revealing, !sealed, result?.body?[revealing.field]?.stringValue != nil {
                audit.record(
                    .reveal,
                    user: revealing.session.user,
                    remote: context.remoteIP,
                    queue: entry.name,
                    ["job": PersonalDataMask.scrub(id), "field": revealing.field]
                )
            }
            return page(
                .ok,
                JobPage(
                    session: session,
                    flash: sessions.takeFlash(for: context.sessionID),
                    queue: entry.name,
                    id: id,
                    reference: links.reference(for: id),
                    result: result,
                    sealed: sealed,
                    revealed: revealing?.field,
                    mayReveal: session.may(.reveal)
                )
            )
        } catch {
            return unavailable(context, error)
        }
    }
}
