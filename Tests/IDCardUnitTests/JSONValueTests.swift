import Foundation
import IDCardContract
import IDCardQueue
import Testing

@Suite("JSON: the hand-written parser and writer every job and answer goes through")
struct JSONValueTests {
    @Test("values parse to what Foundation reads, and write back to text Foundation reads the same")
    func agreesWithFoundation() throws {
        let texts = [
            #"""
            {"id":"a-1","imgData":"QUJD","type":1,"needQuality":"1",\#
            "meta":{"order":7781,"tags":["x","y"],"ok":true,"none":null}}
            """#,
            #"[0,-0,1.5,-2.25e-3,9007199254740993,"",{}, [] ]"#,
            #"{"s":"a\"b\\c\/d\n\r\t\b\f\u0001\u00e9\u6c49\ud83d\ude00","中文":"王小明","k":"x"}"#,
            "  \n\t{\"spaced\" : [ 1 , 2 ] }\r\n",
        ]
        for text in texts {
            let value = try #require(JSONValue.parse(Data(text.utf8)), "\(text)")
            let ours =
                try JSONSerialization.jsonObject(with: value.encoded(), options: [.fragmentsAllowed]) as AnyObject
            let theirs =
                try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) as AnyObject
            #expect((ours as? NSObject)?.isEqual(theirs) == true, "\(text)")
            // Writing is stable: parse(write(v)) == v.
            #expect(JSONValue.parse(value.encoded()) == value)
        }
    }

    @Test("numbers: integers that fit are .int, the rest .double")
    func numbers() {
        #expect(JSONValue.parse(Data("9223372036854775807".utf8)) == .int(.max))
        #expect(JSONValue.parse(Data("9223372036854775808".utf8)) == .double(9223372036854775808))
        #expect(JSONValue.parse(Data("1.0".utf8)) == .double(1))
        #expect(JSONValue.parse(Data("-12".utf8)) == .int(-12))
        #expect(JSONValue.parse(Data("1E+2".utf8)) == .double(100))
        #expect(JSONValue.parse(Data("123456789012345678901234".utf8)) == .double(1.2345678901234568e23))
    }

    @Test("the writer: sorted keys, compact, escapes only what JSON requires")
    func writer() {
        let value: JSONValue = .object([
            "b": .array([.int(1), .null, .bool(false)]), "a": .string("/é\"\n\u{1}"), "c": .double(0.5),
        ])
        #expect(String(decoding: value.encoded(), as: UTF8.self) == #"{"a":"/é\"\n\u0001","b":[1,null,false],"c":0.5}"#)
        #expect(String(decoding: JSONValue.double(.nan).encoded(), as: UTF8.self) == "null")
    }

    @Test(
        "not JSON is nil, never a crash",
        arguments: [
            "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", ".5", "-", "+1", "1e", "0x10",
            "NaN", "Infinity",
            "tru", "nul", "\"unterminated", "\"bad \\x escape\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"raw \u{1} control\"", "{} {}", "[1] x", "\"\\", "[\"a\",",
        ]
    )
    func rejects(text: String) {
        #expect(JSONValue.parse(Data(text.utf8)) == nil)
    }

    @Test("invalid UTF-8 and nesting deeper than the limit are refused")
    func hostileInput() {
        #expect(JSONValue.parse(Data([0x22, 0xC3, 0x28, 0x22])) == nil)
        #expect(JSONValue.parse(Data([0x22, 0xFF, 0x22])) == nil)
        let deep =
            String(repeating: "[", count: JSONValue.maxDepth + 2)
            + String(repeating: "]", count: JSONValue.maxDepth + 2)
        #expect(JSONValue.parse(Data(deep.utf8)) == nil)
        let fine = String(repeating: "[", count: JSONValue.maxDepth) + String(repeating: "]", count: JSONValue.maxDepth)
        #expect(JSONValue.parse(Data(fine.utf8)) != nil)
        // A million open brackets: refused quickly at the limit, the stack untouched.
        #expect(JSONValue.parse(Data(repeating: UInt8(ascii: "["), count: 1_000_000)) == nil)
    }

    @Test("a job's imgData stays in the element: a slice, not a copy; escaped or non-ASCII text is parsed as usual")
    func imageLeftInPlace() throws {
        let element = Data(#"{"id":"a","imgData":"QUJD","meta":{"imgData":"x"}}"#.utf8)
        let (fields, text) = try #require(JSONValue.parseObject(element, leavingInPlace: "imgData"))
        #expect(text.map { String(decoding: $0, as: UTF8.self) } == "QUJD")
        #expect(fields["imgData"] == nil)
        #expect(fields["meta"] == .object(["imgData": .string("x")]))  // only the top-level key
        // Slices share the element's storage.
        let slice = try #require(text)
        element.withUnsafeBytes { whole in
            slice.withUnsafeBytes { part in
                #expect(part.baseAddress! >= whole.baseAddress! && part.baseAddress! < whole.baseAddress! + whole.count)
            }
        }

        let escaped = try #require(
            JSONValue.parseObject(Data(#"{"imgData":"QU\/JD"}"#.utf8), leavingInPlace: "imgData")
        )
        #expect(escaped.text == nil && escaped.fields["imgData"] == .string("QU/JD"))
        let unicode = try #require(JSONValue.parseObject(Data(#"{"imgData":"数据"}"#.utf8), leavingInPlace: "imgData"))
        #expect(unicode.text == nil && unicode.fields["imgData"] == .string("数据"))
        let number = try #require(JSONValue.parseObject(Data(#"{"imgData":12}"#.utf8), leavingInPlace: "imgData"))
        #expect(number.text == nil && number.fields["imgData"] == .int(12))
        // A repeated key keeps its last value, in place or not.
        let repeated = try #require(
            JSONValue.parseObject(Data(#"{"imgData":"QUJD","imgData":7}"#.utf8), leavingInPlace: "imgData")
        )
        #expect(repeated.text == nil && repeated.fields["imgData"] == .int(7))
        let repeatedBack = try #require(
            JSONValue.parseObject(Data(#"{"imgData":7,"imgData":"QUJD"}"#.utf8), leavingInPlace: "imgData")
        )
        #expect(
            repeatedBack.text.map { String(decoding: $0, as: UTF8.self) } == "QUJD"
                && repeatedBack.fields["imgData"] == nil
        )
        #expect(JSONValue.parseObject(Data(#"{"imgData":"QUJD""#.utf8), leavingInPlace: "imgData") == nil)
        #expect(JSONValue.parseObject(Data("[1]".utf8), leavingInPlace: "imgData") == nil)
    }
}
