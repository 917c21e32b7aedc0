import IDCardQueue

/// `/queues/{queue}`: depths, rates, latency, the rate budget, the last hour's chart, the
/// workers, and the pause switch. Its numbers refresh in place (`/static/dashboard.js`).
struct QueuePage: DashboardPage {
    var session: Session
    var flash: String?
    var snapshot: QueueSnapshot
    var workers: [WorkerStatus]
    /// The pause and resume buttons: the role may act and the dashboard is not read-only.
    var mayAct: Bool

    func render() -> HTML {
        let stats = snapshot.stats
        let name = stats.queue
        let text = snapshot.text
        func stat(_ key: String, _ label: String, link: HTML = "") -> HTML {
            """
            <div class="stat"><span class="label">\(label)</span>\
            <span class="value" data-stat="\(key)">\(text[key] ?? "–")</span>\(link)</div>
            """
        }
        let pauseNote: HTML =
            stats.pause.map { pause in
                // Scrubbed here: a pause written by `queue pause` or by hand passed no other check.
                let why = pause.reason.isEmpty ? "" : ": " + PersonalDataMask.scrub(pause.reason)
                return " <span id=\"pause-note\">by \(PersonalDataMask.scrub(pause.by)) at \(pause.at)\(why)</span>"
            } ?? ""
        let pauseForm: HTML =
            !mayAct
            ? ""
            : stats.pause == nil
                ? """
                <form id="pause" method="post" action="/queues/\(url: name)/pause">\(Layout.csrfField(session))\
                <input name="reason" placeholder="why (optional)" maxlength="200">\
                <button type="submit">Pause the queue</button></form>
                """
                : """
                <form id="resume" method="post" action="/queues/\(url: name)/resume">\(Layout.csrfField(session))\
                <button type="submit">Resume the queue</button></form>
                """
        return Layout.page(
            title: name,
            session: session,
            flash: flash,
            live: " data-live=\"queue\" data-queue=\"\(name)\"",
            """
            <h1>Queue \(name) \
            <span id="queue-state" data-stat="queue-state" class="state">\(text["queue-state"] ?? "")</span>\
            \(pauseNote)</h1>
            \(pauseForm)
            <section class="stats" aria-label="depths">
            \(stat("pending", "pending"))\(stat("processing", "processing"))\(stat("delayed", "delayed (retries)"))\
            \(stat("dead", "dead", link: "<a id=\"dead-link\" href=\"/queues/\(url: name)/dead\">dead letters</a>"))\
            \(stat("workers", "workers"))\(stat("workers-note", "readiness"))\(stat("latency", "oldest waiting"))
            </section>
            <section class="stats" aria-label="rates">
            \(stat("succeeded-rate", "succeeded"))\(stat("failed-rate", "failed"))\(stat("retried-rate", "retried"))\
            \(stat("succeeded", "succeeded in all"))\(stat("failed", "failed in all"))\
            \(stat("retried", "retried in all"))
            </section>
            <section class="stats" aria-label="rate budget">
            \(stat("rate-configured", "rate limit"))\(stat("rate-effective", "rate now"))\
            \(stat("rate-in-use", "in use"))\(stat("rate-cooldown", "cool-down"))\
            \(stat("rate-ahead", "slots handed out ahead"))
            </section>
            <h2>Last hour</h2>
            <figure>
            <svg id="history-chart" class="chart" viewBox="0 0 600 160" role="img" \
            aria-label="depths over the last hour"></svg>
            <figcaption><span class="key pending">pending</span> <span class="key processing">processing</span> \
            <span class="key delayed">delayed</span> <span class="key dead">dead</span></figcaption>
            </figure>
            <figure>
            <svg id="rate-chart" class="chart" viewBox="0 0 600 160" role="img" \
            aria-label="jobs per minute over the last hour"></svg>
            <figcaption><span class="key succeeded">succeeded/min</span> <span class="key failed">failed/min</span> \
            <span class="key retried">retried/min</span></figcaption>
            </figure>
            <h2>Workers</h2>
            <table id="workers">
            <thead><tr><th>worker</th><th>state</th><th>jobs in flight</th><th>last heartbeat</th><th>version</th>\
            <th>concurrency</th><th>provider</th><th>started</th></tr></thead>
            <tbody>\(workers.map(row))</tbody>
            </table>
            """
        )
    }

    func row(_ worker: WorkerStatus) -> HTML {
        let state =
            !worker.isAlive
            ? "missed heartbeats (its jobs go back when reaped)"
            : worker.pausedReason.map { "paused: " + PersonalDataMask.scrub($0) } ?? "ready"
        return """
            <tr data-worker="\(worker.worker)"><td>\(worker.worker)</td><td>\(state)</td><td>\(worker.inFlight)</td>\
            <td>\(Format.duration(milliseconds: worker.heartbeatAgeMilliseconds)) ago</td>\
            <td>\(worker.info?.version ?? "?")</td><td>\(worker.info.map { "\($0.concurrency)" } ?? "?")</td>\
            <td>\(worker.info?.provider ?? "?")</td><td>\(worker.info?.startedAt ?? "?")</td></tr>
            """
    }
}
