import Foundation
import NIOCore

/// An `application/x-www-form-urlencoded` body, escaped chunk by chunk while it is sent.
///
/// Images make these bodies hundreds of KB long; a job waiting seconds for the API's answer
/// should not hold an escaped copy of its image besides the text it came in.
struct FormEncoding: Sendable {
    static let chunkSize = 64 * 1024

    private var pieces: [(bytes: Data, escaped: Bool)] = []

    mutating func append(_ name: String, _ value: String) {
        append(name, Data(value.utf8))
    }

    /// A value given as bytes: an image's base64 text, sent without a copy of it being made first.
    mutating func append(_ name: String, _ value: Data) {
        if !pieces.isEmpty { pieces.append((Data("&".utf8), false)) }
        pieces.append((Data(name.utf8), true))
        pieces.append((Data("=".utf8), false))
        pieces.append((value, true))
    }

    /// The body's length in bytes, known before sending (the request carries Content-Length).
    var length: Int {
        pieces.reduce(0) { total, piece in
            total + (piece.escaped ? Self.escapedLength(piece.bytes) : piece.bytes.count)
        }
    }

    /// The whole body at once, for small forms and tests: one buffer of exactly `length` bytes.
    func buffer(length: Int) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(length)
        for piece in pieces {
            if piece.escaped {
                Self.escape(piece.bytes, into: &out)
            } else {
                out.writeBytes(piece.bytes)
            }
        }
        return out
    }

    static func escape(_ text: String) -> String {
        var out = ByteBuffer()
        escape(Data(text.utf8), into: &out)
        return String(buffer: out)
    }

    private static let hex = Array("0123456789ABCDEF".utf8)

    /// RFC 3986 unreserved bytes, looked up rather than matched: an image's base64 passes through here twice.
    private static let unreserved: [Bool] = (0...255).map { value in
        switch UInt8(value) {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// Through raw bytes: `Data`'s own iterator costs more than the escaping. Writes into room for
    /// the worst case (three bytes per byte) and keeps what it used.
    private static func escape(_ text: Data, into out: inout ByteBuffer) {
        text.withUnsafeBytes { raw in
            unreserved.withUnsafeBufferPointer { unreserved in
                _ = out.writeWithUnsafeMutableBytes(minimumWritableBytes: raw.count * 3) { target in
                    var at = 0
                    for byte in raw {
                        if unreserved[Int(byte)] {
                            target[at] = byte
                            at += 1
                        } else {
                            target[at] = UInt8(ascii: "%")
                            target[at + 1] = hex[Int(byte >> 4)]
                            target[at + 2] = hex[Int(byte & 0x0F)]
                            at += 3
                        }
                    }
                    return at
                }
            }
        }
    }

    private static func escapedLength(_ text: Data) -> Int {
        text.withUnsafeBytes { raw in
            unreserved.withUnsafeBufferPointer { unreserved in
                raw.count + 2 * raw.reduce(0) { $0 + (unreserved[Int($1)] ? 0 : 1) }
            }
        }
    }

    /// The escaped body, one chunk at a time.
    func chunks() -> Chunks { Chunks(pieces: pieces) }

    struct Chunks: IteratorProtocol, Sendable {
        let pieces: [(bytes: Data, escaped: Bool)]
        var piece = 0
        var offset = 0

        /// At most ``FormEncoding/chunkSize`` escaped bytes; `nil` at the end.
        ///
        /// Each buffer is made no larger than its chunk can need: `ByteBuffer` rounds capacities up
        /// to a power of two, and 64 KiB + 3 became 128 KiB, glibc's mmap threshold in the worker —
        /// an mmap, page faults and a munmap per call (~9 % of worker CPU per job in a profile).
        mutating func next() -> ByteBuffer? {
            guard piece < pieces.count else { return nil }
            let remaining = pieces[piece...].reduce(0) { $0 + $1.bytes.count } - offset
            let capacity = Swift.min(FormEncoding.chunkSize, Swift.max(3, remaining * 3))
            var out = ByteBuffer()
            out.reserveCapacity(capacity)
            // At most three output bytes per input byte: never past the capacity.
            while piece < pieces.count, capacity - out.readableBytes >= 3 {
                let (bytes, escaped) = pieces[piece]
                let room = (capacity - out.readableBytes) / 3
                let start = bytes.startIndex + offset
                let slice = bytes[start..<Swift.min(start + room, bytes.endIndex)]
                if escaped { FormEncoding.escape(slice, into: &out) } else { out.writeBytes(slice) }
                offset += slice.count
                if offset >= bytes.count {
                    piece += 1
                    offset = 0
                }
            }
            return out
        }
    }
}
