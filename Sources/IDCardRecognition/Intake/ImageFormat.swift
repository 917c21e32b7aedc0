import Foundation

/// The image formats the recognizers take, told apart by their first bytes.
public enum ImageFormat: String, Sendable {
    case jpeg, png, bmp, webp

    public init?(sniffing bytes: Data) {
        let head = [UInt8](bytes.prefix(12))
        if head.starts(with: [0xFF, 0xD8, 0xFF]) {
            self = .jpeg
        } else if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else if head.starts(with: [0x42, 0x4D]) && head.count >= 6 {
            self = .bmp
        } else if head.count == 12 && head.starts(with: Array("RIFF".utf8)) && Array(head[8..<12]) == Array("WEBP".utf8)
        {
            self = .webp
        } else {
            return nil
        }
    }
}
