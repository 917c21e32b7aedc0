import CHiredis
import Foundation
import NIOCore

/// hiredis's reply parser over bytes from any transport: the bytes a connection reads go in,
/// whole replies come out, however the bytes were cut.
///
/// Owned by one ``RedisChannelHandler`` and used only on its event loop, so not `Sendable`.
final class RedisReplyReader {
    private let reader: UnsafeMutablePointer<redisReader>

    init() throws(RedisError) {
        guard let reader = redisReaderCreate() else { throw .connection("cannot allocate a hiredis reader") }
        self.reader = reader
    }

    deinit { redisReaderFree(reader) }

    /// Adds bytes read from the connection.
    func feed(_ buffer: ByteBuffer) throws(RedisError) {
        let status = buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return REDIS_OK }
            return redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        if status != REDIS_OK { throw .connection("reply parser: \(errorText)") }
    }

    /// The next whole reply, or `nil` until more bytes come. A protocol error throws: the stream
    /// cannot be read further, and the connection must be dropped.
    func next() throws(RedisError) -> RedisValue? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else {
            throw .connection("unreadable reply: \(errorText)")
        }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return Self.value(of: raw.assumingMemoryBound(to: redisReply.self))
    }

    private var errorText: String {
        withUnsafeBytes(of: reader.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Copies a hiredis reply into a ``RedisValue``, which outlives it.
    private static func value(of reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let r = reply.pointee
        func text() -> String {
            r.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: r.len), as: UTF8.self) } ?? ""
        }
        switch r.type {
        case REDIS_REPLY_STRING: return .bulk(r.str.map { Data(bytes: $0, count: r.len) } ?? Data())
        case REDIS_REPLY_STATUS: return .status(text())
        case REDIS_REPLY_ERROR: return .error(text())
        case REDIS_REPLY_INTEGER: return .integer(Int(r.integer))
        case REDIS_REPLY_ARRAY:
            var values = [RedisValue]()
            values.reserveCapacity(r.elements)
            for index in 0..<r.elements {
                values.append(r.element[index].map { value(of: $0) } ?? .null)
            }
            return .array(values)
        default: return .null
        }
    }
}
