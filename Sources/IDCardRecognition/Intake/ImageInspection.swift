import Foundation

/// What an image file's own structure says, read without decoding a pixel: its size, how many
/// colour channels it stores, which editing software signed its metadata, and whether it ends.
///
/// Intake uses it to refuse pixel bombs before any call; the local recognizer uses it to refuse
/// truncated files (its decoder cannot read them) and as the only evidence behind `quality` flags.
public struct ImageInspection: Sendable, Equatable {
    public var format: ImageFormat
    public var width: Int?
    public var height: Int?
    /// Colour channels as stored: 1 for a greyscale JPEG or PNG; nil when the format does not say.
    public var channels: Int?
    /// The `Software` (Exif, PNG text) or `CreatorTool` (XMP) value, when it names an image editor.
    public var editingSoftware: String?
    /// The format's end marker is present (JPEG EOI, PNG IEND, the RIFF or BMP declared length).
    public var isComplete: Bool

    /// Image editors whose name in the metadata means the picture was edited, not just taken.
    static let editors = [
        "photoshop", "gimp", "lightroom", "snapseed", "picsart", "meitu", "美图", "醒图", "pixelmator", "affinity",
        "paint.net", "paintshop", "canva", "fotor", "photoscape", "acdsee", "photodirector", "facetune",
    ]

    public var pixels: Int? {
        guard let width, let height else { return nil }
        return width.multipliedReportingOverflow(by: height).overflow ? Int.max : width * height
    }

    /// The honest `quality` flags: `edited` when an image editor signed the metadata, `copy` when
    /// the file stores a single channel (how scanners and copiers save). Never `photo` or `shoot`:
    /// nothing in the file proves them.
    public var qualityFlags: [String] {
        var flags: [String] = []
        if editingSoftware != nil { flags.append("edited") }
        if channels == 1 { flags.append("copy") }
        return flags
    }

    public init?(_ data: Data) {
        guard let format = ImageFormat(sniffing: data) else { return nil }
        self.format = format
        self.isComplete = false
        let bytes = [UInt8](data)
        switch format {
        case .jpeg: readJPEG(bytes)
        case .png: readPNG(bytes)
        case .bmp: readBMP(bytes)
        case .webp: readWebP(bytes)
        }
    }

    // MARK: Formats

    private mutating func readJPEG(_ bytes: [UInt8]) {
        var position = 2
        while position + 4 <= bytes.count {
            guard bytes[position] == 0xFF else { return }
            let marker = bytes[position + 1]
            if marker == 0xFF {
                position += 1
                continue
            }
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) {
                position += 2
                continue
            }
            if marker == 0xD9 {
                isComplete = true
                return
            }
            let length = Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
            let start = position + 4
            let end = position + 2 + length
            guard length >= 2, end <= bytes.count else { return }
            let payload = bytes[start..<end]
            switch marker {
            case 0xC0...0xCF where marker != 0xC4 && marker != 0xC8 && marker != 0xCC:
                if payload.count >= 6 {
                    let p = payload.startIndex
                    height = Int(payload[p + 1]) << 8 | Int(payload[p + 2])
                    width = Int(payload[p + 3]) << 8 | Int(payload[p + 4])
                    channels = Int(payload[p + 5])
                }
            case 0xE1:
                noteEditor(Self.exifSoftware(payload) ?? Self.xmpCreatorTool(payload))
            case 0xDA:
                // Entropy-coded data follows; the file is whole when an EOI closes it.
                isComplete = bytes.count >= end + 2 && Self.endsWithEOI(bytes[end...])
                return
            default:
                break
            }
            position = end
        }
    }

    /// The last two bytes are EOI, after at most 64 bytes of zero padding some writers add.
    private static func endsWithEOI(_ tail: ArraySlice<UInt8>) -> Bool {
        var end = tail.endIndex
        while end > tail.startIndex, tail.endIndex - end < 64, tail[end - 1] == 0x00 { end -= 1 }
        return end - tail.startIndex >= 2 && tail[end - 2] == 0xFF && tail[end - 1] == 0xD9
    }

    private mutating func readPNG(_ bytes: [UInt8]) {
        var position = 8
        while position + 12 <= bytes.count {
            let length = Self.bigEndian(bytes, position, 4)
            let type = String(decoding: bytes[position + 4..<position + 8], as: UTF8.self)
            let start = position + 8
            guard length >= 0, start + length + 4 <= bytes.count else { return }
            let data = bytes[start..<start + length]
            switch type {
            case "IHDR" where length >= 13:
                width = Self.bigEndian(bytes, start, 4)
                height = Self.bigEndian(bytes, start + 4, 4)
                let colourType = bytes[start + 9]
                channels =
                    switch colourType {
                    case 0: 1
                    case 4: 2
                    case 2: 3
                    case 3: 3
                    case 6: 4
                    default: nil
                    }
            case "tEXt", "iTXt":
                if let separator = data.firstIndex(of: 0) {
                    let keyword = String(decoding: data[data.startIndex..<separator], as: UTF8.self)
                    let text = String(decoding: data[(separator + 1)...], as: UTF8.self)
                    if keyword == "Software" { noteEditor(text) }
                    if keyword == "XML:com.adobe.xmp" { noteEditor(Self.creatorTool(in: text)) }
                }
            case "IEND":
                isComplete = true
                return
            default:
                break
            }
            position = start + length + 4
        }
    }

    private mutating func readBMP(_ bytes: [UInt8]) {
        guard bytes.count >= 26 else { return }
        let declared = Self.littleEndian(bytes, 2, 4)
        isComplete = declared > 0 && bytes.count >= declared
        width = Int(Int32(truncatingIfNeeded: Self.littleEndian(bytes, 18, 4)).magnitude)
        // Negative heights mean rows stored top-down.
        height = Int(Int32(truncatingIfNeeded: Self.littleEndian(bytes, 22, 4)).magnitude)
    }

    private mutating func readWebP(_ bytes: [UInt8]) {
        guard bytes.count >= 30 else { return }
        isComplete = bytes.count >= Self.littleEndian(bytes, 4, 4) + 8
        switch String(decoding: bytes[12..<16], as: UTF8.self) {
        case "VP8 ":
            width = Self.littleEndian(bytes, 26, 2) & 0x3FFF
            height = Self.littleEndian(bytes, 28, 2) & 0x3FFF
        case "VP8L":
            let bits = Self.littleEndian(bytes, 21, 4)
            width = (bits & 0x3FFF) + 1
            height = ((bits >> 14) & 0x3FFF) + 1
        case "VP8X":
            width = Self.littleEndian(bytes, 24, 3) + 1
            height = Self.littleEndian(bytes, 27, 3) + 1
        default:
            break
        }
    }

    // MARK: Metadata

    private mutating func noteEditor(_ software: String?) {
        guard editingSoftware == nil, let software else { return }
        let lowered = software.lowercased()
        if Self.editors.contains(where: { lowered.contains($0) }) {
            editingSoftware = String(software.prefix(64))
        }
    }

    /// Exif IFD0 tag 0x0131 (Software).
    static func exifSoftware(_ payload: ArraySlice<UInt8>) -> String? {
        let segment = Array(payload)
        guard segment.count > 14, segment.starts(with: Array("Exif".utf8) + [0, 0]) else { return nil }
        let tiff = Array(segment[6...])
        let little: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func read(_ offset: Int, _ count: Int) -> Int? {
            guard offset >= 0, offset + count <= tiff.count else { return nil }
            return little ? littleEndian(tiff, offset, count) : bigEndian(tiff, offset, count)
        }
        guard let ifd = read(4, 4), let entries = read(ifd, 2) else { return nil }
        for entry in 0..<min(entries, 256) {
            let base = ifd + 2 + entry * 12
            guard let tag = read(base, 2), let count = read(base + 4, 4) else { return nil }
            guard tag == 0x0131, count > 0, count < 1024 else { continue }
            let start = count <= 4 ? base + 8 : (read(base + 8, 4) ?? -1)
            guard start >= 0, start + count <= tiff.count else { return nil }
            return String(decoding: tiff[start..<start + count].prefix { $0 != 0 }, as: UTF8.self)
        }
        return nil
    }

    static func xmpCreatorTool(_ payload: ArraySlice<UInt8>) -> String? {
        let header = Array("http://ns.adobe.com/xap/1.0/".utf8) + [0]
        guard payload.starts(with: header) else { return nil }
        return creatorTool(in: String(decoding: payload.dropFirst(header.count), as: UTF8.self))
    }

    /// `xmp:CreatorTool="…"` or `<xmp:CreatorTool>…</xmp:CreatorTool>`.
    static func creatorTool(in xmp: String) -> String? {
        guard let range = xmp.range(of: "CreatorTool") else { return nil }
        let rest = xmp[range.upperBound...].drop { $0 == "=" || $0 == "\"" || $0 == ">" || $0 == "'" }
        return String(rest.prefix { $0 != "\"" && $0 != "<" && $0 != "'" }.prefix(128))
    }

    static func bigEndian(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> Int {
        guard offset >= 0, offset + count <= bytes.count else { return 0 }
        return bytes[offset..<offset + count].reduce(0) { $0 << 8 | Int($1) }
    }

    static func littleEndian(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> Int {
        guard offset >= 0, offset + count <= bytes.count else { return 0 }
        return bytes[offset..<offset + count].reversed().reduce(0) { $0 << 8 | Int($1) }
    }
}
