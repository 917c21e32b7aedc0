/// `/`: every queue the dashboard was given, a row each, live.
struct OverviewPage: DashboardPage {
    var session: Session
    var flash: String?
    var queues: [QueueSnapshot]

    func render() -> HTML {
        let rows: [HTML] = queues.map { queue in
            let name = queue.stats.queue
            let text = queue.text
            func cell(_ stat: String) -> HTML { "<td data-stat=\"\(stat)\">\(text[stat] ?? "")</td>" }
            return """
                <tr data-queue="\(name)">
                <td><a class="queue-link" href="/queues/\(url: name)">\(name)</a></td>
                \(cell("queue-state"))\(cell("pending"))\(cell("processing"))\(cell("delayed"))\(cell("dead"))\
                \(cell("workers"))\(cell("latency"))\(cell("succeeded-rate"))\(cell("failed-rate"))
                </tr>
                """
        }
        return Layout.page(
            title: "Queues",
            session: session,
            flash: flash,
            live: " data-live=\"overview\"",
            """
            <h1>Queues</h1>
            <table id="queues">
            <thead><tr><th>queue</th><th>state</th><th>pending</th><th>processing</th><th>delayed</th><th>dead</th>\
            <th>workers</th><th>oldest waiting</th><th>succeeded</th><th>failed</th></tr></thead>
            <tbody>\(rows)</tbody>
            </table>
            <p class="note">Numbers refresh every 2 s. Rates are over the last minute of the queue's history.</p>
            """
        )
    }
}
