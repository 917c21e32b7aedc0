import IDCardContract
import IDCardQueue

/// One dead letter as the list shows it: no job content, only what says why and when.
struct DeadLetterRow: Sendable {
    var id: String?
    var code: ErrorCode
    var message: String
    var attempts: Int
    var failedAt: String
    var worker: String
    /// What the element was: `imgData (12 KB)`, `imgUrl`, `not JSON (300 bytes)`, `sealed`…
    var form: String
    /// What the page's link and checkbox carry instead of the id (``JobLinks``).
    var reference: String?

    init(letter: DeadLetter, elementBytes: Int, summarized: Bool = false, reference: String? = nil) {
        self.reference = reference
        id = letter.id
        code = letter.error.code
        message = letter.error.message
        attempts = letter.attempts
        failedAt = letter.failedAt
        worker = letter.worker
        if summarized {
            form = "\(elementBytes / 1024) KiB (not read here)"
        } else if letter.isSealed {
            form = "sealed"
        } else if let oversized = letter.oversized {
            form = "oversized (\(oversized.bytes) bytes, kept)"
        } else if let job = letter.job {
            form = job["imgData"] != nil ? "imgData" : job["imgUrl"] != nil ? "imgUrl" : "JSON object"
        } else {
            form = "not a JSON object (\(elementBytes) bytes)"
        }
    }
}

/// `/queues/{queue}/dead`: the dead list, newest first, paged and filtered, with requeue and purge.
struct DeadLettersPage: DashboardPage {
    var session: Session
    var flash: String?
    var queue: String
    var filter: DeadLetterFilter
    var rows: [DeadLetterRow]
    /// The list position to read the next page from; `nil` at the end.
    var next: Int?
    /// The list position this page started at.
    var from: Int
    var total: Int
    /// Letters read to fill the page (a narrow filter reads many).
    var scanned: Int
    var mayAct: Bool

    func render() -> HTML {
        let base = "/queues/\(HTML.urlComponent(queue))/dead"
        let query = filterQuery
        let codeOptions: [HTML] = ErrorCode.allCases.map { code in
            "<option value=\"\(code.rawValue)\"\(filter.code == code ? " selected" : "")>\(code.rawValue)</option>"
        }
        let table: HTML = """
            <table id="dead-letters">
            <thead><tr>\(mayAct ? "<th><span class=\"visually-hidden\">pick</span></th>" : "" as HTML)\
            <th>job</th><th>code</th>\
            <th>message</th><th>attempts</th><th>failed at</th><th>worker</th><th>element</th></tr></thead>
            <tbody>\(rows.map(row))</tbody>
            </table>
            """
        let actions: HTML =
            mayAct
            ? """
            <form id="requeue-selected" method="post" action="\(base)/requeue">\(Layout.csrfField(session))\
            <button id="requeue-selected-button" type="submit">Requeue the selected letters</button></form>
            <form id="requeue-code" method="post" action="\(base)/requeue">\(Layout.csrfField(session))\
            <label>Requeue every letter of <select name="code">\(codeOptions)</select></label> \
            <button type="submit">Requeue all of this code</button></form>
            <p><a id="purge-link" href="\(base)/purge">Purge the dead list…</a></p>
            """
            : ""
        let paging: HTML = """
            <p class="paging">\(from > 0 ? "<a id=\"first-page\" href=\"\(base)?\(query)\">newest</a> " : "" as HTML)\
            \(next.map { position -> HTML in
                "<a id=\"next-page\" href=\"\(base)?\(query)&from=\(position)\">older</a>"
            } ?? "")\
             <span class="note">\(total) letters in all; read \(scanned) from position \(from)</span></p>
            """
        return Layout.page(
            title: "Dead letters · \(queue)",
            session: session,
            flash: flash,
            """
            <h1>Dead letters of <a href="/queues/\(url: queue)">\(queue)</a></h1>
            <form id="filter" method="get" action="\(base)">
            <label>Code <select name="code"><option value="">any</option>\(codeOptions)</select></label>
            <label>Failed from \
            <input type="datetime-local" name="since" step="1" value="\(inputTime(filter.since))"></label>
            <label>until <input type="datetime-local" name="until" step="1" value="\(inputTime(filter.until))">\
            </label>
            <button type="submit">Filter</button> <span class="note">times in UTC</span>
            </form>
            \(actions)
            \(rows.isEmpty ? "<p id=\"no-letters\">No dead letters here.</p>" : table)
            \(paging)
            """
        )
    }

    func row(_ letter: DeadLetterRow) -> HTML {
        let id = letter.id.map(PersonalDataMask.scrub) ?? "(no valid id)"
        let link: HTML =
            letter.reference.map { reference in
                "<a class=\"job-link\" href=\"/queues/\(url: queue)/jobs/\(url: reference)\">\(id)</a>"
            } ?? "\(id)"
        let pick: HTML =
            mayAct
            ? letter.reference.map { reference in
                """
                <td><input type="checkbox" name="id" value="\(reference)" form="requeue-selected" \
                aria-label="pick \(id)"></td>
                """
            } ?? "<td></td>"
            : ""
        return """
            <tr data-job="\(letter.id.map(PersonalDataMask.scrub) ?? "")">\(pick)<td>\(link)</td>\
            <td class="code">\(letter.code.rawValue)</td>\
            <td class="message">\(PersonalDataMask.scrub(letter.message))</td>\
            <td class="attempts">\(letter.attempts)</td>\
            <td class="failed-at">\(letter.failedAt)</td>\
            <td>\(PersonalDataMask.scrub(letter.worker))</td><td>\(letter.form)</td></tr>
            """
    }

    var filterQuery: String {
        [("code", filter.code?.rawValue), ("since", filter.since), ("until", filter.until)]
            .compactMap { name, value in value.map { "\(name)=\(HTML.urlComponent($0))" } }
            .joined(separator: "&")
    }

    /// The contract's time as a `datetime-local` input shows it.
    func inputTime(_ time: String?) -> String { time.map { String($0.prefix(19)) } ?? "" }
}

/// `/queues/{queue}/dead/purge`: the confirmation, typing the queue's name.
struct PurgePage: DashboardPage {
    var session: Session
    var queue: String
    var dead: Int
    var error: String?

    func render() -> HTML {
        Layout.page(
            title: "Purge · \(queue)",
            session: session,
            """
            <h1>Purge the dead letters of \(queue)</h1>
            \(Layout.error(error))
            <p>This drops all \(dead) dead letters and the oversized elements they kept. It cannot be undone.</p>
            <form id="purge" method="post" action="/queues/\(url: queue)/dead/purge">\(Layout.csrfField(session))
            <label>Type the queue's name to confirm <input name="confirm" autocomplete="off" required></label>
            <button type="submit" class="danger">Purge</button>
            </form>
            <p><a href="/queues/\(url: queue)/dead">Keep them</a></p>
            """
        )
    }
}
