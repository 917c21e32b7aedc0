import Foundation
import IDCardContract
import IDCardRecognition
import IDCardTestSupport
import Testing

@Suite("Image inspection: size, channels, editing software and completeness from the file's structure")
struct ImageInspectionTests {
    @Test("JPEG: frame size and channels; Exif Software and XMP CreatorTool name the editor; EOI ends it")
    func jpeg() throws {
        let plain = try #require(ImageInspection(ImageBytes.jpeg(width: 1200, height: 760)))
        #expect(plain.width == 1200 && plain.height == 760 && plain.channels == 3 && plain.isComplete)
        #expect(plain.qualityFlags.isEmpty)

        let edited = try #require(ImageInspection(ImageBytes.jpeg(software: "Adobe Photoshop 25.0 (Windows)")))
        #expect(edited.editingSoftware == "Adobe Photoshop 25.0 (Windows)")
        #expect(edited.qualityFlags == ["edited"])
        #expect(ImageInspection(ImageBytes.jpeg(creatorTool: "GIMP 2.10"))?.qualityFlags == ["edited"])
        // A camera or phone signing its own picture is not an edit.
        #expect(ImageInspection(ImageBytes.jpeg(software: "HDR+ 1.0.540104767zd"))?.editingSoftware == nil)

        let grey = try #require(ImageInspection(ImageBytes.jpeg(channels: 1)))
        #expect(grey.qualityFlags == ["copy"])
        #expect(ImageInspection(ImageBytes.jpeg(complete: false))?.isComplete == false)
        let cut = ImageBytes.jpeg().dropLast(3)
        #expect(ImageInspection(Data(cut))?.isComplete == false)
        #expect(ImageInspection(ImageBytes.jpeg() + Data(count: 10))?.isComplete == true)
    }

    @Test("PNG: IHDR size and colour type, Software text, IEND")
    func png() throws {
        let grey = try #require(
            ImageInspection(ImageBytes.png(width: 300, height: 200, colourType: 0, software: "GIMP 2.10"))
        )
        #expect(grey.width == 300 && grey.height == 200 && grey.channels == 1 && grey.isComplete)
        #expect(grey.qualityFlags == ["edited", "copy"])
        #expect(ImageInspection(ImageBytes.png(colourType: 6))?.qualityFlags == [])
        #expect(ImageInspection(ImageBytes.png(complete: false))?.isComplete == false)
    }

    @Test("BMP and WebP sizes; garbage is no image; lying lengths do not crash")
    func others() {
        #expect(ImageInspection(ImageBytes.bmp(width: 64, height: -48))?.height == 48)
        #expect(ImageInspection(ImageBytes.webp(width: 800, height: 500))?.width == 800)
        #expect(ImageInspection(Data("not an image".utf8)) == nil)
        // Segment and chunk lengths that point past the end, and an Exif offset out of range.
        let lies: [Data] = [
            Data([0xFF, 0xD8, 0xFF, 0xC0, 0xFF, 0xFF, 8]),
            Data(
                [0xFF, 0xD8, 0xFF, 0xE1, 0, 20] + Array("Exif".utf8) + [
                    0, 0, 0x4D, 0x4D, 0, 42, 0x7F, 0xFF, 0xFF, 0xFF,
                ]
            ),
            Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x7F, 0xFF, 0xFF, 0xFF] + Array("IHDR".utf8)),
        ]
        for bytes in lies {
            #expect(ImageInspection(bytes)?.width == nil)
        }
    }
}
