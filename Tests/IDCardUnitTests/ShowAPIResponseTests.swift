import Foundation
import IDCardContract
import IDCardQueue
import Testing

@testable import IDCardRecognition

@Suite("1429-1 answers are sorted by what the worker must do")
struct ShowAPIResponseTests {
    let request = RecognitionRequest(image: .url("https://example.com/a.jpg"), side: .portrait, needQuality: false)

    func interpret(status: UInt = 200, _ text: String) -> Result<Recognition, RecognitionFailure> {
        do {
            return .success(try ShowAPIResponse.interpret(status: status, body: Data(text.utf8), request: request))
        } catch {
            return .failure(error as! RecognitionFailure)
        }
    }

    func gateway(_ code: Int) -> String {
        #"{"showapi_res_code":\#(code),"showapi_res_error":"x","showapi_res_body":{}}"#
    }

    @Test("transient gateway codes are ocr_unavailable", arguments: [-1, -3, -4, -5, -1000, -77])
    func transient(code: Int) {
        guard case .failure(.unavailable) = interpret(gateway(code)) else {
            Issue.record("code \(code)")
            return
        }
    }

    @Test("-1009 and HTTP 429 are rate_limited")
    func rateLimited() {
        guard case .failure(.rateLimited) = interpret(gateway(-1009)) else {
            Issue.record("-1009")
            return
        }
        guard case .failure(.rateLimited) = interpret(status: 429, "{}") else {
            Issue.record("429")
            return
        }
    }

    @Test(
        "account and configuration codes pause the worker",
        arguments: [-2, -6, -1002, -1003, -1004, -1005, -1006, -1007, -1008, -1010, -1011, -1012, -1013]
    )
    func account(code: Int) {
        guard case .failure(.accountProblem) = interpret(gateway(code)) else {
            Issue.record("code \(code)")
            return
        }
    }

    @Test(
        """
        HTTP 401/403/404/405 are refusals (the account's or the image's); 5xx is transient; malformed JSON is \
        transient
        """
    )
    func http() {
        for status: UInt in [401, 403, 404, 405] {
            guard case .failure(.refused) = interpret(status: status, "") else {
                Issue.record("\(status)")
                return
            }
        }
        guard case .failure(.unavailable) = interpret(status: 502, "<html>") else {
            Issue.record("502")
            return
        }
        guard case .failure(.unavailable) = interpret(#"{"showapi_res_code":0,"showapi_res_body":{"na"#) else {
            Issue.record("malformed")
            return
        }
        guard case .failure(.unavailable) = interpret("[]") else {
            Issue.record("not an object")
            return
        }
    }

    @Test("flag false or ret_code ≠ 0 is not_recognized")
    func notRecognized() {
        let flagFalse = #"{"showapi_res_code":0,"showapi_res_body":{"ret_code":0,"flag":false,"msg":"no card"}}"#
        let retCode = #"{"showapi_res_code":0,"showapi_res_body":{"ret_code":-1,"msg":"no card"}}"#
        for text in [flagFalse, retCode] {
            guard case .failure(.rejected(let error, _)) = interpret(text) else {
                Issue.record("unexpected answer to \(text)")
                continue
            }
            #expect(error.code == .notRecognized)
        }
    }

    @Test("a success passes the body through with dates normalised")
    func success() throws {
        let text = #"""
            {"showapi_res_code":0,"showapi_res_error":"","showapi_res_body":{"ret_code":0,"flag":true,"msg":"识别成功!",
             "name":"测试","sex":"男","nationality":"汉","birthday":"1988年3月5日","addr":"测试省","idNo":"44052418800101001x",
             "effEndDate":"长期有效","effBeginDate":"2015.06.01",
             "headImgBase64":"若需要该字段值请使用身份证识别返照接口","quality":["photo"],"extra":1}}
            """#
        let recognition = try interpret(text).get()
        #expect(recognition.provider == "showapi")
        #expect(recognition.body["birthday"] == .string("1988-03-05"))
        #expect(recognition.body["effBeginDate"] == .string("2015-06-01"))
        #expect(recognition.body["effEndDate"] == .string("长期"))
        #expect(recognition.body["idNo"] == .string("44052418800101001X"))
        #expect(recognition.body["headImgBase64"] == nil)
        #expect(recognition.body["quality"] == nil)  // not asked for
        #expect(recognition.body["type"] == .string("1"))
        #expect(recognition.body["extra"] == .int(1))
        #expect(recognition.body["name"] == .string("测试"))
    }

    @Test("a large form is escaped chunk by chunk into exactly the bytes and length of the whole")
    func streamedForm() throws {
        var form = FormEncoding()
        let image = String(repeating: "ab+/=Z09", count: 40_000)  // 320 KB, a third of it escaped
        form.append("imgData", image)
        form.append("type", "1")
        var streamed: [UInt8] = []
        var chunks = form.chunks()
        while let chunk = chunks.next() {
            #expect(chunk.readableBytes <= FormEncoding.chunkSize && chunk.capacity <= FormEncoding.chunkSize)
            streamed += chunk.readableBytesView
        }
        #expect(streamed == Array(form.buffer(length: form.length).readableBytesView))
        #expect(streamed.count == form.length)
        #expect(String(decoding: streamed.prefix(20), as: UTF8.self) == "imgData=ab%2B%2F%3DZ")
        #expect(String(decoding: streamed.suffix(7), as: UTF8.self) == "&type=1")
    }
}
