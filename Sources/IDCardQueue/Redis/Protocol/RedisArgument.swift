import Foundation
import IDCardContract

/// One argument of a Redis command: text or raw bytes, sent binary-safe.
public enum RedisArgument: Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    case string(String)
    case data(Data)

    public init(stringLiteral value: String) { self = .string(value) }

    public static func int(_ value: Int) -> RedisArgument { .string(String(value)) }

    /// A timeout in seconds with millisecond precision (`1.5`), as blocking commands take it.
    public static func seconds(_ value: Double) -> RedisArgument {
        let milliseconds = max(0, Int((value * 1000).rounded()))
        return .string("\(milliseconds / 1000)." + (milliseconds % 1000).zeroPadded(to: 3))
    }

    var byteCount: Int {
        switch self {
        case .string(let text): text.utf8.count
        case .data(let data): data.count
        }
    }

    /// Only ever the command name: arguments may carry personal data or secrets.
    public var description: String {
        switch self {
        case .string(let text): text.count <= 16 ? text : "<\(text.utf8.count) bytes>"
        case .data(let data): "<\(data.count) bytes>"
        }
    }
}
