import Foundation

/// A `multipart/form-data` body with one file part: how the RapidOCR server takes an image.
struct MultipartForm {
    let boundary = "idcard-ocr-" + UUID().uuidString
    private(set) var bytes: [UInt8] = []

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    mutating func appendFile(name: String, filename: String, contentType: String, data: Data) {
        let head =
            """
            --\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; \
            filename=\"\(filename)\"\r\nContent-Type: \(contentType)\r\n\r\n
            """
        bytes.reserveCapacity(bytes.count + head.utf8.count + data.count + boundary.utf8.count + 8)
        bytes.append(contentsOf: head.utf8)
        bytes.append(contentsOf: data)
        bytes.append(contentsOf: "\r\n".utf8)
    }

    /// The closing boundary; call once, after the last part.
    mutating func close() {
        bytes.append(contentsOf: "--\(boundary)--\r\n".utf8)
    }
}
