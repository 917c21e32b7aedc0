import Crypto
import Foundation
import IDCardContract

/// An image checked before any paid call: decoded, within the size limit, carrying a known signature.
public enum PreparedImage: Sendable, Equatable {
    /// `imgData`'s text as it came (sent on as is to the 1429-1 API) and the SHA-256 of its bytes.
    /// The decoded bytes are not kept: a job waiting seconds for an answer holds only the text,
    /// and that is a slice of its list element.
    case base64(Data, sha256: String)
    /// An `http(s)` URL for the recognizer to fetch.
    case url(String)

    public var sha256: String? {
        if case .base64(_, let digest) = self { return digest }
        return nil
    }

    /// Names the image a job asks about: `sha256:<hex>` of its bytes, however they were encoded
    /// (line breaks, a `data:` prefix), or `url-sha256:<hex>` of its URL. A succeeded result
    /// carries it, so an id reused for another image is told apart from a repeat of the same one.
    public var digest: String {
        switch self {
        case .base64(_, let sha256): "sha256:" + sha256
        case .url(let url): "url-sha256:" + SHA256.hash(data: Data(url.utf8)).lowercaseHex
        }
    }
}

/// Limits applied at intake.
public struct IntakeLimits: Sendable {
    /// Largest image accepted, in bytes (contract default 4 MiB).
    public var maxImageBytes: Int
    /// Largest image accepted, in pixels: above a 48-megapixel phone photo, far below what a small
    /// file can declare (a 100,000 × 100,000 PNG header) and a decoder would then try to allocate.
    public var maxPixels: Int

    public init(maxImageBytes: Int = 4 * 1024 * 1024, maxPixels: Int = 50_000_000) {
        self.maxImageBytes = maxImageBytes
        self.maxPixels = maxPixels
    }

    /// Largest list element that can hold a job that may succeed: the base64 of the largest image
    /// and 64 KiB for the other fields (meta is at most 4 KiB).
    public var maxElementBytes: Int { (maxImageBytes + 2) / 3 * 4 + 64 * 1024 }
}

extension PreparedImage {
    /// Checks a job's image without a network call: `invalid_job` for bad base64,
    /// `image_too_large`, `image_unreadable` for bytes that are no JPEG/PNG/BMP/WebP or declare no size,
    /// `image_too_large` above the pixel limit too,
    /// `url_forbidden` for a URL that is not http(s).
    public init(_ image: Job.Image, limits: IntakeLimits = IntakeLimits()) throws(JobError) {
        switch image {
        case .url(let text):
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
                scheme == "http" || scheme == "https", url.host != nil
            else {
                throw JobError(.urlForbidden, "imgUrl must be an http or https URL")
            }
            self = .url(text)
        case .base64(let text):
            // Four base64 characters carry three bytes: reject oversized images before decoding them.
            if text.count / 4 * 3 > limits.maxImageBytes + 3 {
                throw JobError(.imageTooLarge, "the image is larger than \(limits.maxImageBytes) bytes")
            }
            guard let bytes = Self.decodeBase64(text) else {
                throw JobError(.invalidJob, "imgData is not valid base64")
            }
            guard bytes.count <= limits.maxImageBytes else {
                throw JobError(.imageTooLarge, "the image is larger than \(limits.maxImageBytes) bytes")
            }
            _ = try Self.inspect(bytes, limits: limits)
            self = .base64(text, sha256: SHA256.hash(data: bytes).lowercaseHex)
        }
    }

    /// The signature and pixel-size checks, for job bytes and for bytes fetched from an imgUrl alike.
    public static func inspect(_ bytes: Data, limits: IntakeLimits) throws(JobError) -> ImageInspection {
        guard let inspection = ImageInspection(bytes) else {
            throw JobError(.imageUnreadable, "the bytes are not a JPEG, PNG, BMP or WebP image")
        }
        guard let width = inspection.width, let height = inspection.height, width > 0, height > 0 else {
            throw JobError(
                .imageUnreadable,
                "the \(inspection.format.rawValue.uppercased()) declares no pixel size: it is cut short or damaged"
            )
        }
        guard let pixels = inspection.pixels, pixels <= limits.maxPixels else {
            throw JobError(.imageTooLarge, "the image is \(width) × \(height) pixels, more than \(limits.maxPixels)")
        }
        return inspection
    }

    /// Standard-alphabet base64; missing `=` padding is tolerated.
    static func decodeBase64(_ text: Data) -> Data? {
        guard !text.isEmpty else { return nil }
        let remainder = text.count % 4
        if remainder == 1 { return nil }
        if remainder == 0 { return Data(base64Encoded: text) }
        var padded = Data(text)
        padded.append(contentsOf: repeatElement(UInt8(ascii: "="), count: 4 - remainder))
        return Data(base64Encoded: padded)
    }
}
