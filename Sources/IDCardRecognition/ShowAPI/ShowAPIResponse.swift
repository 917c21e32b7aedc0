import Foundation
import IDCardContract

/// Reads a 1429-1 answer and sorts it by what the worker must do (showapi-1429-1.md; docs/contract.md, "Error codes").
enum ShowAPIResponse {
    static let transientCodes: Set<Int64> = [-1, -3, -4, -5, -1000]
    static let rateLimitedCodes: Set<Int64> = [-1009]
    static let accountCodes: Set<Int64> = [
        -2, -6, -1002, -1003, -1004, -1005, -1006, -1007, -1008, -1010, -1011, -1012, -1013,
    ]

    static func interpret(status: UInt, body: Data, request: RecognitionRequest) throws -> Recognition {
        switch status {
        case 200..<300: break
        case 401, 403:
            throw RecognitionFailure.refused(
                "HTTP \(status): the API refused the request (the appKey, or a rule against this image)"
            )
        case 404, 405:
            throw RecognitionFailure.refused("HTTP \(status): the API refused the request (check SHOWAPI_URL)")
        case 413:
            throw RecognitionFailure.rejected(
                JobError(.imageTooLarge, "the API refused the image as too large (HTTP 413)")
            )
        case 429: throw RecognitionFailure.rateLimited("HTTP 429")
        default: throw RecognitionFailure.unavailable("HTTP \(status)")
        }
        guard let answer = JSONValue.parse(body)?.objectValue, let code = answer["showapi_res_code"]?.intValue else {
            throw RecognitionFailure.unavailable("the answer is not the 1429-1 JSON")
        }
        let gatewayError = answer["showapi_res_error"]?.stringValue.map { ": " + $0.prefix(200) } ?? ""
        if code != 0 {
            if rateLimitedCodes.contains(code) {
                throw RecognitionFailure.rateLimited("API code \(code)\(gatewayError)")
            }
            if accountCodes.contains(code) {
                throw RecognitionFailure.accountProblem("API code \(code)\(gatewayError)")
            }
            throw RecognitionFailure.unavailable("API code \(code)\(gatewayError)")
        }
        guard let fields = answer["showapi_res_body"]?.objectValue else {
            throw RecognitionFailure.unavailable("the answer has no showapi_res_body")
        }
        let retCode = fields["ret_code"]?.intValue ?? 0
        if retCode != 0 || fields["flag"] == .bool(false) {
            let message = fields["msg"]?.stringValue.map { String($0.prefix(200)) } ?? "no ID card found"
            throw RecognitionFailure.rejected(
                JobError(.notRecognized, "the API found no ID card (ret_code \(retCode)): \(message)")
            )
        }
        return Recognition(
            provider: "showapi",
            body: CardBody.normalized(fields, side: request.side, needQuality: request.needQuality)
        )
    }
}
