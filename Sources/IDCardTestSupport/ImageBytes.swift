import Foundation

/// Image files made byte by byte: headers and metadata exactly as tests need them, no pixels.
///
/// Enough for everything that reads a file's structure (intake, ``ImageInspection``-style checks);
/// a decoder would find no image data in them.
public enum ImageBytes {
    /// SOI, optional Exif `Software` and XMP `CreatorTool` segments, a baseline frame header, and
    /// (when `complete`) a scan followed by EOI.
    public static func jpeg(
        width: Int = 640,
        height: Int = 400,
        channels: Int = 3,
        software: String? = nil,
        creatorTool: String? = nil,
        complete: Bool = true
    ) -> Data {
        var bytes: [UInt8] = [0xFF, 0xD8]
        if let software { bytes += segment(0xE1, exif(software: software)) }
        if let creatorTool {
            let xmp = #"<x:xmpmeta><rdf:Description xmp:CreatorTool="\#(creatorTool)"/></x:xmpmeta>"#
            bytes += segment(0xE1, Array("http://ns.adobe.com/xap/1.0/".utf8) + [0] + Array(xmp.utf8))
        }
        var frame: [UInt8] = [
            8, UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF), UInt8(channels),
        ]
        for component in 0..<channels { frame += [UInt8(component + 1), 0x11, 0] }
        bytes += segment(0xC0, frame)
        if complete {
            bytes += segment(0xDA, [UInt8(channels)] + (0..<channels).flatMap { [UInt8($0 + 1), 0] } + [0, 63, 0])
            bytes += [0x12, 0x34, 0x56, 0xFF, 0xD9]
        }
        return Data(bytes)
    }

    /// Signature, IHDR (colour type 0 = greyscale, 2 = RGB, 6 = RGBA), an optional `Software` text
    /// chunk, and (when `complete`) IEND. CRCs are zero: structure readers do not check them.
    public static func png(
        width: Int = 640,
        height: Int = 400,
        colourType: UInt8 = 2,
        software: String? = nil,
        complete: Bool = true
    ) -> Data {
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        bytes += chunk("IHDR", bigEndian(width, 4) + bigEndian(height, 4) + [8, colourType, 0, 0, 0])
        if let software { bytes += chunk("tEXt", Array("Software".utf8) + [0] + Array(software.utf8)) }
        bytes += chunk("IDAT", [0, 0, 0, 0])
        if complete { bytes += chunk("IEND", []) }
        return Data(bytes)
    }

    /// A 24-bit BITMAPINFOHEADER file declaring `width` × `height`; with `blank`, white rows
    /// follow and any decoder reads it (an image with no text at all), else the rows are left out.
    public static func bmp(width: Int, height: Int, blank: Bool = false) -> Data {
        let rowBytes = (width * 3 + 3) & ~3
        let size = 54 + (blank ? rowBytes * abs(height) : 0)
        var bytes: [UInt8] = Array("BM".utf8) + littleEndian(size, 4) + [0, 0, 0, 0] + littleEndian(54, 4)
        bytes +=
            littleEndian(40, 4) + littleEndian(width, 4) + littleEndian(height, 4) + [1, 0, 24, 0]
            + [UInt8](repeating: 0, count: 24)
        if blank { bytes += [UInt8](repeating: 0xFF, count: rowBytes * abs(height)) }
        return Data(bytes)
    }

    /// A RIFF container with a VP8X chunk declaring the canvas size.
    public static func webp(width: Int, height: Int) -> Data {
        let vp8x: [UInt8] =
            Array("VP8X".utf8) + littleEndian(10, 4) + [0, 0, 0, 0] + littleEndian(width - 1, 3)
            + littleEndian(height - 1, 3)
        return Data(Array("RIFF".utf8) + littleEndian(4 + vp8x.count, 4) + Array("WEBP".utf8) + vp8x)
    }

    static func exif(software: String) -> [UInt8] {
        let text = Array(software.utf8) + [0]
        // TIFF header (big endian), IFD0 at 8 with one entry: 0x0131 ASCII, value after the IFD.
        var tiff: [UInt8] = Array("MM".utf8) + [0, 42] + bigEndian(8, 4)
        tiff +=
            bigEndian(1, 2) + bigEndian(0x0131, 2) + bigEndian(2, 2) + bigEndian(text.count, 4)
            + bigEndian(8 + 2 + 12 + 4, 4)
        tiff += bigEndian(0, 4) + text
        return Array("Exif".utf8) + [0, 0] + tiff
    }

    static func segment(_ marker: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [0xFF, marker] + bigEndian(payload.count + 2, 2) + payload
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        bigEndian(data.count, 4) + Array(type.utf8) + data + [0, 0, 0, 0]
    }

    static func bigEndian(_ value: Int, _ count: Int) -> [UInt8] {
        (0..<count).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }

    static func littleEndian(_ value: Int, _ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }
}
