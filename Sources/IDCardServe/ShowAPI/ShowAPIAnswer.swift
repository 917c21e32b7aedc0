import Foundation
import IDCardContract

/// One answer of `POST /1429-1`, in the 1429-1 API's envelope:
///
///     {"showapi_res_body":{…},"showapi_res_code":0,"showapi_res_error":"","showapi_res_id":"…"}
///
/// Always HTTP 200, as the API answers its gateway codes; a client tells success from failure by
/// `showapi_res_code`, then by the body's `ret_code` and `flag`, exactly as it does with the API.
public struct ShowAPIAnswer: Sendable, Equatable {
    public var gateway: GatewayCode
    /// `showapi_res_body`: the fields on success, `{ret_code, flag: false, msg}` for a business
    /// failure, `{}` with a gateway code.
    public var body: [String: JSONValue]
    /// `showapi_res_id`: random per answer, as the API's; the log line of the request carries it.
    public var id: String

    public init(gateway: GatewayCode, body: [String: JSONValue] = [:], id: String = ShowAPIAnswer.newID()) {
        self.gateway = gateway
        self.body = body
        self.id = id
    }

    /// A gateway code with an empty body.
    public static func gateway(_ code: GatewayCode) -> ShowAPIAnswer { ShowAPIAnswer(gateway: code) }

    /// The API's "not recognized" shape: gateway success, `ret_code` -1, `flag` false and a
    /// message that says why (never a field's value).
    public static func businessFailure(_ message: String) -> ShowAPIAnswer {
        ShowAPIAnswer(gateway: .success, body: ["ret_code": .int(-1), "flag": .bool(false), "msg": .string(message)])
    }

    /// The business failure for a job's error code; a code without a message of its own is
    /// answered as a request no job can be made of.
    public static func businessFailure(for code: ErrorCode) -> ShowAPIAnswer {
        businessFailure(businessMessages[code] ?? invalidRequestMessage)
    }

    /// The answer a job's result gives. A success is the result's body as the worker stored it
    /// (the 1429-1 field names and date formats, for either provider), without the worker's
    /// `type` (the API does not send it) and with the API's placeholder `headImgBase64` on the
    /// portrait side. A failure of the image or of the job is a business failure; a failure of
    /// the fleet (recognizer unavailable, attempts used up, a worker lost) is `-1`, which clients
    /// retry. The body must be opened already (``JobResult/openingBody(with:)``).
    public static func answer(for result: JobResult) -> ShowAPIAnswer {
        guard result.status == .succeeded else {
            let code = result.error?.code ?? .ocrUnavailable
            if businessMessages[code] != nil { return .businessFailure(for: code) }
            return .gateway(.systemError)
        }
        guard var body = result.body?.objectValue else { return .gateway(.systemError) }
        body.removeValue(forKey: "type")
        let portrait = body["name"] != nil || body["idNo"] != nil || body["addr"] != nil
        if portrait, body["headImgBase64"] == nil {
            body["headImgBase64"] = .string(headImagePlaceholder)
        }
        body["ret_code"] = body["ret_code"] ?? .int(0)
        body["flag"] = body["flag"] ?? .bool(true)
        body["msg"] = body["msg"] ?? .string(successMessage)
        return ShowAPIAnswer(gateway: .success, body: body)
    }

    public var jsonValue: JSONValue {
        .object([
            "showapi_res_code": .int(Int64(gateway.code)),
            "showapi_res_error": .string(gateway.text),
            "showapi_res_id": .string(id),
            "showapi_res_body": .object(body),
        ])
    }

    public func encoded() -> Data { jsonValue.encoded() }

    /// 32 random hex digits, the form of the API's ids.
    public static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }.lowercaseHex
    }

    /// The API's message on success.
    public static let successMessage = "识别成功!"
    /// What the API puts in `headImgBase64` (its portrait comes from another endpoint).
    public static let headImagePlaceholder = "若需要该字段值请使用身份证识别返照接口"

    static let invalidRequestMessage = "请求参数错误"

    /// `msg` of a business failure, by the job's error code. Codes not listed are the fleet's
    /// failures (gateway `-1`).
    public static let businessMessages: [ErrorCode: String] = [
        .notRecognized: "未识别到身份证",
        .invalidJob: invalidRequestMessage,
        .imageUnreadable: "图片格式错误或已损坏",
        .imageTooLarge: "图片过大",
        .urlForbidden: "图片地址不可访问",
        .idConflict: "请求冲突，请重试",
        .rejectedByAPI: "图片被拒绝识别",
    ]
}
