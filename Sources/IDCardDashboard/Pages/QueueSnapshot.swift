import IDCardContract
import IDCardQueue

/// One queue as the pages and `/api/queues/{queue}/stats` show it.
struct QueueSnapshot: Sendable {
    var stats: QueueStats
    var rates: QueueRates?
    var rate: RateStatus?

    /// The JSON the page's script reads to update the numbers in place (keys = `data-stat` names).
    var jsonValue: JSONValue {
        var object: [String: JSONValue] = [
            "queue": .string(stats.queue), "pending": .int(Int64(stats.pending)),
            "processing": .int(Int64(stats.processing)), "delayed": .int(Int64(stats.delayed)),
            "dead": .int(Int64(stats.dead)), "workers": .int(Int64(stats.workers)),
            "pausedWorkers": .int(Int64(stats.pausedWorkers)), "succeeded": .int(Int64(stats.succeeded)),
            "failed": .int(Int64(stats.failed)), "retried": .int(Int64(stats.retried)),
            "paused": .bool(stats.pause != nil),
            "text": .object(text.mapValues { .string($0) }),
        ]
        if let wait = stats.oldestWaitMilliseconds { object["latencyMs"] = .int(Int64(wait)) }
        if let rate { object["rateReserved"] = .int(Int64(rate.reserved)) }
        if let configured = rate?.configured { object["rateConfigured"] = .double(configured) }
        return .object(object)
    }

    /// What each `data-stat` element shows, formatted once here for the page and its script alike.
    var text: [String: String] {
        var text = [
            "pending": "\(stats.pending)", "processing": "\(stats.processing)", "delayed": "\(stats.delayed)",
            "dead": "\(stats.dead)", "workers": "\(stats.workers)", "succeeded": "\(stats.succeeded)",
            "failed": "\(stats.failed)", "retried": "\(stats.retried)",
            "latency": stats.oldestWaitMilliseconds.map { Format.duration(milliseconds: Int64($0)) } ?? "–",
            "succeeded-rate": Format.perMinute(rates?.succeeded), "failed-rate": Format.perMinute(rates?.failed),
            "retried-rate": Format.perMinute(rates?.retried),
            "workers-note": stats.pausedWorkers == 0
                ? (stats.workers == 0 ? "none alive" : "all ready")
                : "\(stats.workers - stats.pausedWorkers) ready, \(stats.pausedWorkers) paused",
            "queue-state": stats.pause == nil ? "running" : "paused",
        ]
        if let rate {
            text["rate-configured"] = rate.configured.map { Format.perSecond($0) } ?? "no limit seen"
            text["rate-effective"] = Format.perSecond(rate.effective)
            text["rate-cooldown"] =
                rate.coolDownRemaining.map { Format.duration(milliseconds: Int64($0 / .milliseconds(1))) } ?? "none"
            text["rate-ahead"] = Format.duration(milliseconds: Int64(rate.scheduledAhead / .milliseconds(1)))
        }
        return text
    }
}
