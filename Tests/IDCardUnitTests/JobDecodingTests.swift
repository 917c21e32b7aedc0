import Foundation
import IDCardContract
import IDCardQueue
import IDCardRecognition
import IDCardTestSupport
import Testing

@Suite("Job intake: every kind of bad job gets its contract code")
struct JobDecodingTests {
    static let jpegBase64 = ImageBytes.jpeg(width: 4, height: 2, complete: false).base64EncodedString()

    func decode(_ text: String) throws(JobError) -> Job {
        try ReceivedJob(element: Data(text.utf8)).job(replyPrefix: QueueKeys().replyPrefix)
    }

    func intake(_ text: String) -> JobError? {
        do {
            let job = try decode(text)
            _ = try PreparedImage(job.image, limits: IntakeLimits(maxImageBytes: 64, maxPixels: 1000))
            return nil
        } catch {
            return error
        }
    }

    @Test("a full job decodes; integers stand for strings")
    func fullJob() throws {
        let job = try decode(
            #"""
            {"id":"order-1.a:b_c","imgData":"data:image/jpeg;base64,\#(Self.jpegBase64)","type":1,"needQuality":"1",\#
            "replyTo":"idocr:{idcard}:reply:r","meta":{"order":7781},"enqueuedAt":1764111601000,"extra":true}
            """#
        )
        #expect(job.id == "order-1.a:b_c")
        #expect(job.image == .base64(Data(Self.jpegBase64.utf8)))
        #expect(job.side == .portrait)
        #expect(job.needQuality)
        #expect(job.replyTo == "idocr:{idcard}:reply:r")
        #expect(job.meta == .object(["order": .int(7781)]))
        #expect(job.enqueuedAtMilliseconds == 1_764_111_601_000)
        // Any number is accepted and echoed; one that cannot be a time measures nothing (converting
        // 4e33 or -1.8e308 to milliseconds trapped the worker: a hostile job took the process down).
        for hostile in ["4.0225416213954e33", "-1.7976931348623157e308", "-9223372036854775808", "9223372036854775807"]
        {
            let hostileJob = try decode(#"{"id":"h","imgUrl":"https://x/y.jpg","enqueuedAt":\#(hostile)}"#)
            #expect(hostileJob.enqueuedAt != nil)
            #expect(hostileJob.enqueuedAtMilliseconds == nil)
        }
    }

    @Test(
        "bad jobs are invalid_job",
        arguments: [
            ("not json at all", "not JSON"),
            (#"[1,2,3]"#, "not a JSON object"),
            (#"{"imgUrl":"https://x/y.jpg"}"#, "id is missing"),
            (#"{"id":"","imgUrl":"https://x/y.jpg"}"#, "id must be"),
            (#"{"id":"has space","imgUrl":"https://x/y.jpg"}"#, "id must be"),
            (#"{"id":"ünïcode","imgUrl":"https://x/y.jpg"}"#, "id must be"),
            (#"{"id":{"a":1},"imgUrl":"https://x/y.jpg"}"#, "id must be"),
            (#"{"id":"a"}"#, "imgData or imgUrl is required"),
            (#"{"id":"a","imgData":"QUJD","imgUrl":"https://x/y.jpg"}"#, "not both"),
            (#"{"id":"a","imgData":12}"#, "base64 string"),
            (#"{"id":"a","imgUrl":"https://x/y.jpg","type":"3"}"#, "type must be"),
            (#"{"id":"a","imgUrl":"https://x/y.jpg","needQuality":"yes"}"#, "needQuality"),
            (#"{"id":"a","imgUrl":"https://x/y.jpg","meta":[1]}"#, "meta must be a JSON object"),
            (#"{"id":"a","imgUrl":"https://x/y.jpg","replyTo":""}"#, "replyTo"),
            (#"{"id":"a","imgUrl":"https://x/y.jpg","enqueuedAt":"soon"}"#, "enqueuedAt"),
            (#"{"id":"a","imgData":"@@@@not base64@@@@"}"#, "not valid base64"),
            (#"{"id":"a","imgData":"data:image/jpeg;base64,"}"#, "holds no base64"),  // found by fuzzing
            (#"{"id":"a","imgData":" data:image/jpeg;base64,"}"#, "holds no base64"),  // and with white space before it
        ]
    )
    func invalid(element: String, message: String) throws {
        let error = try #require(intake(element))
        #expect(error.code == .invalidJob)
        #expect(error.message.contains(message))
        #expect(error.retryable == false)
    }

    @Test("a 129-character id and a 5 KiB meta are refused")
    func limits() throws {
        let longID = String(repeating: "a", count: 129)
        #expect(intake(#"{"id":"\#(longID)","imgUrl":"https://x/y.jpg"}"#)?.code == .invalidJob)
        let bigMeta = String(repeating: "m", count: 5000)
        #expect(
            intake(#"{"id":"a","imgUrl":"https://x/y.jpg","meta":{"k":"\#(bigMeta)"}}"#)?.message.contains("4 KiB")
                == true
        )
    }

    @Test("image checks before any paid call")
    func imageChecks() {
        let text = Data("plain text, no image".utf8).base64EncodedString()
        #expect(intake(#"{"id":"a","imgData":"\#(text)"}"#)?.code == .imageUnreadable)
        let big = Data([0xFF, 0xD8, 0xFF] + [UInt8](repeating: 7, count: 100)).base64EncodedString()
        #expect(intake(#"{"id":"a","imgData":"\#(big)"}"#)?.code == .imageTooLarge)
        #expect(intake(#"{"id":"a","imgUrl":"ftp://x/y.jpg"}"#)?.code == .urlForbidden)
        #expect(intake(#"{"id":"a","imgUrl":"file:///etc/passwd"}"#)?.code == .urlForbidden)
        #expect(intake(#"{"id":"a","imgData":"\#(Self.jpegBase64)"}"#) == nil)
    }

    @Test("a signature without a pixel size is unreadable; a declared pixel bomb is too large")
    func pixelSize() {
        func base64(_ data: Data) -> String { data.base64EncodedString() }
        let headless = Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4])
        #expect(intake(#"{"id":"a","imgData":"\#(base64(headless))"}"#)?.code == .imageUnreadable)
        #expect(
            intake(#"{"id":"a","imgData":"\#(base64(Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])))"}"#)?.code
                == .imageUnreadable
        )
        let bombs = [
            ImageBytes.png(width: 100_000, height: 100_000, complete: false), ImageBytes.jpeg(width: 40, height: 30),
            ImageBytes.bmp(width: 2000, height: -2000), ImageBytes.webp(width: 16_000, height: 16_000),
        ]
        for bomb in bombs {
            #expect(intake(#"{"id":"a","imgData":"\#(base64(bomb))"}"#)?.code == .imageTooLarge)
        }
        #expect(intake(#"{"id":"a","imgData":"\#(base64(ImageBytes.jpeg(width: 40, height: 25)))"}"#) == nil)
    }

    @Test("PNG, BMP and WebP signatures are images; base64 may lack padding and be wrapped")
    func signatures() throws {
        let png = ImageBytes.png(width: 10, height: 10, complete: false)
        let bmp = ImageBytes.bmp(width: 10, height: 10)
        let webp = ImageBytes.webp(width: 10, height: 10)
        for bytes in [png, bmp, webp] {
            var text = bytes.base64EncodedString()
            while text.hasSuffix("=") { text.removeLast() }
            let wrapped = String(text.prefix(4)) + "\\n" + String(text.dropFirst(4))
            #expect(intake(#"{"id":"a","imgData":"\#(wrapped)"}"#) == nil)
        }
    }

    @Test("a received element keeps id and replyTo for reporting even when invalid")
    func partialIdentity() {
        let received = ReceivedJob(
            element: Data(#"{"id":"ok-id","replyTo":"idocr:{idcard}:reply:rq","type":"9"}"#.utf8)
        )
        #expect(received.id == "ok-id")
        #expect(received.replyTo(replyPrefix: QueueKeys().replyPrefix) == "idocr:{idcard}:reply:rq")
        #expect(ReceivedJob(element: Data("garbage".utf8)).id == nil)
    }

    @Test("timestamps are the contract's ISO 8601 UTC with milliseconds, zero-padded")
    func timestamps() {
        #expect(Timestamp.iso8601(milliseconds: 1_764_111_602_123) == "2025-11-25T23:00:02.123Z")
        #expect(Timestamp.iso8601(milliseconds: 5_007) == "1970-01-01T00:00:05.007Z")
    }
}
