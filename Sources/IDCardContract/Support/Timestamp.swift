import Foundation

/// The contract's time formats: ISO 8601 UTC with milliseconds, and Unix milliseconds.
public enum Timestamp {
    /// µs on this process's monotonic clock (since it first asked), to set beside readings of
    /// Redis's clock: a jump between two such pairs is a step of Redis's clock, not time passing.
    public static func monotonicMicroseconds(_ instant: ContinuousClock.Instant = .now) -> Int64 {
        let (seconds, attoseconds) = (instant - processStart).components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    private static let processStart = ContinuousClock.now

    public static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }

    /// `2026-11-25T23:00:02.123Z`, written digit by digit into its 24 bytes: every result carries one.
    public static func iso8601(milliseconds: Int64 = nowMilliseconds()) -> String {
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let fields: [(value: Int, width: Int, separator: UInt8)] = [
            (Int(parts.tm_year) + 1900, 4, UInt8(ascii: "-")), (Int(parts.tm_mon) + 1, 2, UInt8(ascii: "-")),
            (Int(parts.tm_mday), 2, UInt8(ascii: "T")),
            (Int(parts.tm_hour), 2, UInt8(ascii: ":")), (Int(parts.tm_min), 2, UInt8(ascii: ":")),
            (Int(parts.tm_sec), 2, UInt8(ascii: ".")),
            (Int(milliseconds % 1000), 3, UInt8(ascii: "Z")),
        ]
        return String(unsafeUninitializedCapacity: 24) { bytes in
            var end = 0
            for field in fields {
                var value = field.value
                for offset in stride(from: field.width - 1, through: 0, by: -1) {
                    bytes[end + offset] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                bytes[end + field.width] = field.separator
                end += field.width + 1
            }
            return end
        }
    }
}
