import IDCardContract

/// Which dead letters a page lists and "requeue all of this code" moves: by error code and by
/// the time they failed. Times are compared as the contract writes them (ISO 8601 UTC), so
/// `2026-12-04T21:30` means 21:30 UTC.
public struct DeadLetterFilter: Sendable, Equatable {
    public var code: ErrorCode?
    /// Failed at or after.
    public var since: String?
    /// Failed before.
    public var until: String?

    public init(code: ErrorCode? = nil, since: String? = nil, until: String? = nil) {
        self.code = code
        self.since = since
        self.until = until
    }

    /// From a page's query: unknown codes and malformed times are dropped, not guessed at.
    public init(code: String?, since: String?, until: String?) {
        self.code = code.flatMap { name in ErrorCode.allCases.first { $0.rawValue == name } }
        self.since = since.flatMap(Self.time)
        self.until = until.flatMap(Self.time)
    }

    public func matches(_ letter: DeadLetter) -> Bool {
        if let code, letter.error.code != code { return false }
        if let since, letter.failedAt < since { return false }
        if let until, letter.failedAt >= until { return false }
        return true
    }

    /// True when `letter` failed before the range starts: the list is newest first, so the rest
    /// of it is older still (letters written by workers whose clocks disagree by more than the
    /// range's precision may be missed).
    public func isPast(_ letter: DeadLetter) -> Bool {
        guard let since else { return false }
        return letter.failedAt < since
    }

    public var isEmpty: Bool { code == nil && since == nil && until == nil }

    /// `YYYY-MM-DDTHH:MM[:SS[.mmm]][Z]` (what a `datetime-local` input sends) in the contract's
    /// form; `nil` for anything else.
    static func time(_ text: String) -> String? {
        var text = text.trimmingWhitespace
        if text.hasSuffix("Z") { text = text.dropLast() }
        let digits = text.map { $0.isASCII && $0.isNumber }
        let shape = Array(text)
        guard shape.count >= 16, shape.count <= 23, shape[4] == "-", shape[7] == "-", shape[10] == "T",
            shape[13] == ":",
            [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15].allSatisfy({ digits[$0] })
        else { return nil }
        let full = String(text) + String(":00.000".suffix(23 - shape.count))
        let check = Array(full)
        guard check.count == 23, check[16] == ":", check[19] == ".",
            [17, 18, 20, 21, 22].allSatisfy({ check[$0].isASCII && check[$0].isNumber })
        else { return nil }
        return full + "Z"
    }
}
