/// The gateway codes `serve` answers with (`showapi_res_code`), each with its
/// `showapi_res_error` text: the codes the 1429-1 API documents, used where they mean the same
/// thing here, so that a client's existing handling of them (retry, back off, alert) is right.
public struct GatewayCode: Sendable, Equatable {
    public let code: Int
    public let text: String

    /// Success: the answer is in `showapi_res_body` (which may still say `flag: false`).
    public static let success = GatewayCode(code: 0, text: "")
    /// The recognition failed on the fleet's side (recognizer unavailable, attempts used up, the
    /// service stopping): the client may try again.
    public static let systemError = GatewayCode(code: -1, text: "系统调用错误")
    /// The client's quota for the period is used up.
    public static let quotaExhausted = GatewayCode(code: -2, text: "调用次数已用完")
    /// No answer within the answer timeout. The job goes on; asking again for the same image gets
    /// its result once it is there, without being charged again.
    public static let timeout = GatewayCode(code: -3, text: "读取超时")
    /// No `appKey` given.
    public static let missingAppKey = GatewayCode(code: -1002, text: "缺少appKey参数")
    /// Over the key's requests per second.
    public static let rateLimited = GatewayCode(code: -1009, text: "调用频率超限")
    /// A key the keys file does not list.
    public static let unknownAppKey = GatewayCode(code: -1010, text: "appKey不存在")
    /// A key the keys file marks `disabled`.
    public static let disabledAppKey = GatewayCode(code: -1011, text: "appKey已停用")

    public static let all: [GatewayCode] = [
        .success, .systemError, .quotaExhausted, .timeout, .missingAppKey, .rateLimited, .unknownAppKey,
        .disabledAppKey,
    ]
}
