import Foundation

/// The contract's time formats: ISO 8601 UTC with milliseconds, and Unix milliseconds.
public enum Timestamp {
    public static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }

    /// `2026-11-25T23:00:02.123Z`
    public static func iso8601(milliseconds: Int64 = nowMilliseconds()) -> String {
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let date = [Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday)]
        let time = [Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec)]
        return zip(date, [4, 2, 2]).map { $0.zeroPadded(to: $1) }.joined(separator: "-") + "T"
            + time.map { $0.zeroPadded(to: 2) }.joined(separator: ":") + "." + Int(milliseconds % 1000).zeroPadded(to: 3) + "Z"
    }
}
