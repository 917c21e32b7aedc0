extension Int {
    /// Decimal digits with leading zeros up to `width` (`7.zeroPadded(to: 3)` is `007`), without
    /// `String(format:)`, which goes through CoreFoundation and costs microseconds per call.
    package func zeroPadded(to width: Int) -> String {
        let text = String(self)
        return String(repeating: "0", count: Swift.max(0, width - text.count)) + text
    }
}
