import AsyncHTTPClient
import Foundation
import IDCardContract
import NIOCore
import NIOHTTP1

/// A self-hosted RapidOCR API server: no key, no internet, no per-call cost.
///
/// The server only finds lines of text and their boxes; the card's fields come from
/// ``CardFieldExtractor`` and the `quality` flags from what the file itself proves
/// (``ImageInspection/qualityFlags``). The answer has the 1429-1 provider's shape.
public struct RapidOCRRecognizer: Recognizer {
    public let provider = "rapidocr"
    public let configuration: RapidOCRConfiguration
    private let httpClient: HTTPClient
    private let fetcher: ImageFetcher

    /// - Parameters:
    ///   - httpClient: shared by the process, for calls to the server.
    ///   - fetcher: fetches `imgUrl` images here, since the server cannot be trusted to.
    public init(configuration: RapidOCRConfiguration, httpClient: HTTPClient, fetcher: ImageFetcher) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.fetcher = fetcher
    }

    public func recognize(_ request: RecognitionRequest) async throws -> Recognition {
        let bytes: Data
        switch request.image {
        case .base64(let text, _):
            // Checked at intake; decoded again here rather than held through the wait for a slot.
            guard let data = PreparedImage.decodeBase64(text) else {
                throw RecognitionFailure.rejected(JobError(.invalidJob, "imgData is not valid base64"))
            }
            bytes = data
        case .url(let url): bytes = try await fetcher.fetch(url)
        }
        let inspection: ImageInspection
        do throws(JobError) {
            inspection = try PreparedImage.inspect(bytes, limits: configuration.limits)
        } catch {
            throw RecognitionFailure.rejected(error)
        }
        // The server's decoder gives up on a file that stops early, and answers a bare HTTP 500
        // that looks like its own failure; refuse it here with a clear code instead.
        guard inspection.isComplete else {
            throw RecognitionFailure.rejected(
                JobError(
                    .imageUnreadable,
                    "the \(inspection.format.rawValue.uppercased()) file is cut short: its end is missing"
                )
            )
        }

        let (lines, measured) = try await detectLines(bytes, format: inspection.format, sent: request.sent)
        let extraction = CardFieldExtractor.extract(lines, side: request.side)
        let fieldNames = Set(extraction.body.keys).subtracting(["type"])
        var warnings = Self.warnings(measured: measured, fileIsGrey: inspection.qualityFlags.contains("copy"))
        if fieldNames.isEmpty, let shown = Self.otherSide(lines, asked: request.side) {
            warnings = (warnings ?? []) + ["reversed_side"]
            throw RecognitionFailure.rejected(
                JobError(
                    .notRecognized,
                    "the image shows the \(shown.name) side, the job asked for the \(request.side.name) side "
                        + "(reversed_side)"
                ),
                warnings: JobResult.warningOrder.filter(Set(warnings ?? []).contains)
            )
        }
        guard extraction.side != .detect, !fieldNames.isEmpty else {
            let found = lines.isEmpty ? "no text" : "\(lines.count) lines of text but no ID-card fields"
            let why = warnings.map { $0.isEmpty ? "" : " (warnings: \($0.joined(separator: ", ")))" } ?? ""
            throw RecognitionFailure.rejected(
                JobError(.notRecognized, "RapidOCR found \(found) in the image\(why)"),
                warnings: warnings
            )
        }

        var body = extraction.body
        body["ret_code"] = 0
        body["flag"] = true
        body["msg"] = "识别成功!"
        if request.needQuality { body["quality"] = .array(inspection.qualityFlags.map(JSONValue.string)) }
        return Recognition(
            provider: provider,
            body: CardBody.normalized(body, side: extraction.side, needQuality: request.needQuality),
            derived: extraction.derived.isEmpty ? nil : extraction.derived,
            warnings: warnings
        )
    }

    /// One multipart POST; the lines of text the server found, in its answer's order, and the
    /// warnings it measured (`Idocr-Warnings`, from idcard-ocr's server; nil from the stock one).
    private func detectLines(
        _ bytes: Data,
        format: ImageFormat,
        sent: (@Sendable () -> Void)?
    ) async throws -> (lines: [OCRLine], warnings: [String]?) {
        var form = MultipartForm()
        form.appendFile(
            name: "image_file",
            filename: "card.\(format.rawValue)",
            contentType: "image/\(format.rawValue)",
            data: bytes
        )
        form.close()
        let headers: HTTPHeaders = ["Content-Type": form.contentType, "Accept": "application/json"]
        let response = try await httpClient.call(
            .POST,
            url: configuration.url,
            headers: headers,
            body: .bytes(form.bytes),
            timeout: configuration.timeout,
            maxBytes: configuration.maxResponseBytes,
            calling: "the RapidOCR server",
            tooLarge: .unavailable(
                "the answer of the RapidOCR server is larger than \(configuration.maxResponseBytes) bytes"
            ),
            sent: sent
        )
        let (status, answer) = (response.status.code, response.bodyBytes)
        switch status {
        case 200..<300: break
        case 404, 405, 422:
            throw RecognitionFailure.refused("RapidOCR answered HTTP \(status): check RAPIDOCR_URL (it ends in /ocr)")
        case 413:
            throw RecognitionFailure.rejected(
                JobError(.imageTooLarge, "the RapidOCR server refused the image as too large (HTTP 413)")
            )
        case 429: throw RecognitionFailure.rateLimited("RapidOCR answered HTTP 429")
        case 503 where response.headers.first(name: "Retry-After") != nil:
            throw RecognitionFailure.busy(
                "the RapidOCR server is full (HTTP 503)",
                retryAfter: Self.retryAfter(response.headers.first(name: "Retry-After"))
            )
        default: throw RecognitionFailure.unavailable("RapidOCR answered HTTP \(status)")
        }
        guard let lines = OCRLine.lines(fromRapidOCR: Data(answer.readableBytesView)) else {
            throw RecognitionFailure.unavailable("the RapidOCR answer is not its JSON of lines")
        }
        let warnings = response.headers.first(name: "Idocr-Warnings").map {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return (lines, warnings)
    }

    /// The side the lines show when it is not the one `asked` for (and one was): a reading of the
    /// other side finds its fields. Nil when no side was asked, or the other side is not there either.
    static func otherSide(_ lines: [OCRLine], asked: Job.Side) -> Job.Side? {
        guard asked != .detect else { return nil }
        let other: Job.Side = asked == .portrait ? .emblem : .portrait
        let reading = CardFieldExtractor.extract(lines, side: other)
        let fields = Set(reading.body.keys).subtracting(["type"])
        return !fields.isEmpty && CardFieldExtractor.extract(lines).side == other ? other : nil
    }

    /// The result's warnings: the server's that the contract knows (a server cannot put words of
    /// its own into results), `copy` also when the file is single-channel, in the contract's order;
    /// nil when neither the server nor the file measured anything.
    static func warnings(measured: [String]?, fileIsGrey: Bool) -> [String]? {
        guard measured != nil || fileIsGrey else { return nil }
        let found = Set(measured ?? []).union(fileIsGrey ? ["copy"] : [])
        return JobResult.warningOrder.filter(found.contains)
    }

    /// A `Retry-After` of whole seconds (the form servers in front of a queue send), within
    /// 0.1…60 s; a date or nonsense: 1 s.
    static func retryAfter(_ value: String?) -> Duration {
        guard let value, let seconds = Double(value.trimmingCharacters(in: .whitespaces)), seconds.isFinite else {
            return .seconds(1)
        }
        return .milliseconds(Int64(min(max(seconds, 0.1), 60) * 1000))
    }
}
