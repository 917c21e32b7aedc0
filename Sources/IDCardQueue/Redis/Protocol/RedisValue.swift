import Foundation
import IDCardContract

/// One Redis reply, copied out of hiredis so it outlives the C reply object.
public enum RedisValue: Sendable, Equatable {
    case status(String)
    case error(String)
    case integer(Int)
    case bulk(Data)
    case null
    case array([RedisValue])

    /// The reply as text, for bulk and status replies.
    public var string: String? {
        switch self {
        case .bulk(let data): String(decoding: data, as: UTF8.self)
        case .status(let text): text
        case .integer(let value): String(value)
        default: nil
        }
    }

    public var data: Data? {
        switch self {
        case .bulk(let data): data
        case .status(let text): Data(text.utf8)
        default: nil
        }
    }

    public var int: Int? {
        switch self {
        case .integer(let value): value
        case .bulk, .status: string.flatMap { Int($0) }
        default: nil
        }
    }

    public var array: [RedisValue]? {
        if case .array(let values) = self { return values }
        return nil
    }

    public var isNull: Bool { self == .null }
}
