import IDCardContract

/// `/queues/{queue}/jobs/{id}`: a job's result, personal fields masked unless this one request
/// revealed one of them (``Permission/reveal``).
struct JobPage: DashboardPage {
    var session: Session
    var flash: String?
    var queue: String
    var id: String
    /// What the reveal forms' URL carries instead of the id (``JobLinks``).
    var reference: String
    var result: JobResult?
    /// The stored result's body is sealed and the dashboard has no key that opens it.
    var sealed: Bool
    /// The one field shown in full, after a reveal.
    var revealed: String?
    var mayReveal: Bool

    static let portraitFields = [
        ("name", "name"), ("sex", "sex"), ("nationality", "ethnicity"), ("birthday", "born"), ("addr", "address"),
        ("idNo", "number"),
    ]
    static let emblemFields = [
        ("depInfo", "issuing authority"), ("effBeginDate", "valid from"), ("effEndDate", "valid until"),
    ]

    func render() -> HTML {
        let shownID = PersonalDataMask.scrub(id)
        return Layout.page(
            title: "Job \(shownID)",
            session: session,
            flash: flash,
            """
            <h1>Job \(shownID) <span class="note">in <a href="/queues/\(url: queue)">\(queue)</a></span></h1>
            \(result.map(details) ?? Self.noResult)
            """
        )
    }

    static let revealNote: HTML = """
        <p class="note">Revealing shows one field for this page only and is written to the audit log.</p>
        """

    static let noResult: HTML = """
        <p id="job-status">no result</p>
        <p>The job is pending, in flight, dead without a result, or its result expired (IDOCR_RESULT_TTL).</p>
        """

    func details(_ result: JobResult) -> HTML {
        var rows: [(String, String)] = [
            ("provider", result.provider ?? "–"), ("attempts", "\(result.attempts)"),
            ("finished at", result.finishedAt), ("took", Format.duration(milliseconds: Int64(result.durationMs))),
        ]
        if let error = result.error {
            rows.append(("error", error.code.rawValue))
            rows.append(("message", PersonalDataMask.scrub(error.message)))
        }
        if let warnings = result.warnings, !warnings.isEmpty {
            rows.append(("warnings", warnings.joined(separator: ", ")))
        }
        if let checks = result.checks?.jsonValue.objectValue {
            rows.append(
                (
                    "checks",
                    checks.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.boolDescription)" }.joined(
                        separator: ", "
                    )
                )
            )
        }
        if let derived = result.derived, !derived.isEmpty { rows.append(("derived", derived.joined(separator: ", "))) }
        if let meta = result.meta?.objectValue {
            rows.append(("meta", "keys: " + meta.keys.sorted().joined(separator: ", ") + " (values not shown)"))
        }
        let facts: [HTML] = rows.map { "<dt>\($0.0)</dt><dd>\($0.1)</dd>" }
        return """
            <p id="job-status" class="status-\(result.status.rawValue)">\(result.status.rawValue)</p>
            <dl id="facts">\(facts)</dl>
            \(fields(result))
            """
    }

    func fields(_ result: JobResult) -> HTML {
        if sealed {
            return """
                <p id="sealed">The fields are sealed (encryption at rest) and this dashboard has no key that \
                opens them.</p>
                """
        }
        guard let body = result.body?.objectValue else { return "" }
        let list = body["type"]?.stringValue == "2" ? Self.emblemFields : Self.portraitFields
        let items: [HTML] = list.compactMap { field, label in
            guard let value = body[field]?.stringValue else { return nil }
            let masked = PersonalDataMask.maskedFields.contains(field)
            let show = masked && revealed != field ? PersonalDataMask.field(field, value) : value
            let revealForm: HTML =
                masked && mayReveal && revealed != field
                ? """
                <form class="reveal" method="post" action="/queues/\(url: queue)/jobs/\(url: reference)/reveal">\
                \(Layout.csrfField(session))<input type="hidden" name="field" value="\(field)">\
                <button type="submit">reveal</button></form>
                """
                : ""
            let kind: HTML = revealed == field ? " class=\"revealed\"" : masked ? " class=\"masked\"" : ""
            return "<dt>\(label)</dt><dd data-field=\"\(field)\"\(kind)>\(show)\(revealForm)</dd>"
        }
        let quality = body["quality"]?.arrayValue?.compactMap(\.stringValue).joined(separator: ", ")
        return """
            <h2>Fields</h2>
            <dl id="fields">\(items)</dl>
            \(quality.map { q -> HTML in "<p>quality: \(q.isEmpty ? "no remarks" : q)</p>" } ?? "")
            \(mayReveal ? Self.revealNote : "")
            """
    }
}

extension JSONValue {
    var boolDescription: String {
        if case .bool(let value) = self { return value ? "yes" : "no" }
        return "–"
    }
}
