import IDCardContract
import IDCardQueue
import IDCardRecognition
import Testing

@Suite("ID number and consistency checks")
struct CardChecksTests {
    @Test("the spec's valid examples pass MOD 11-2", arguments: ["11010519491231002X", "440524188001010014"])
    func validExamples(number: String) throws {
        let parsed = try #require(IDNumber(number))
        #expect(parsed.hasValidChecksum)
    }

    @Test("one changed digit fails the checksum")
    func changedDigit() throws {
        #expect(try #require(IDNumber("11010519491231003X")).hasValidChecksum == false)
        #expect(try #require(IDNumber("440524188001010015")).hasValidChecksum == false)
    }

    @Test("x and × read as X; wrong shapes are not numbers")
    func normalisation() {
        #expect(IDNumber("11010519491231002x")?.value == "11010519491231002X")
        #expect(IDNumber("11010519491231002×")?.value == "11010519491231002X")
        #expect(IDNumber("1101051949123100") == nil)
        #expect(IDNumber("11010519491231002Y") == nil)
        #expect(IDNumber("X10105194912310021") == nil)
    }

    @Test("birth date, sex and masking come from the number")
    func derivedFields() throws {
        let number = try #require(IDNumber("11010519491231002X"))
        #expect(number.birthDate?.description == "1949-12-31")
        #expect(number.sex == "女")
        #expect(number.masked == "110105********002X")
        #expect(try #require(IDNumber("440524188001010014")).sex == "男")
    }

    @Test("portrait checks: all true when consistent, false when the number disagrees")
    func portraitChecks() {
        let good: [String: JSONValue] = ["idNo": "11010519491231002X", "birthday": "1949-12-31", "sex": "女"]
        #expect(
            CardChecks.evaluate(good)
                == ResultChecks(idNoChecksum: true, birthdayMatchesIdNo: true, sexMatchesIdNo: true)
        )
        let bad: [String: JSONValue] = ["idNo": "11010519491231003X", "birthday": "1949-12-30", "sex": "女"]
        #expect(
            CardChecks.evaluate(bad)
                == ResultChecks(idNoChecksum: false, birthdayMatchesIdNo: false, sexMatchesIdNo: false)
        )
    }

    @Test("a check that cannot be made is absent")
    func absentChecks() {
        #expect(CardChecks.evaluate(["name": "测试"]) == nil)
        #expect(CardChecks.evaluate(["idNo": "440524188001010014"]) == ResultChecks(idNoChecksum: true))
    }

    @Test(
        "validity periods follow the law",
        arguments: [
            ("2015-06-01", "2035-06-01", true), ("2015-06-01", "2025-06-01", true), ("2015-06-01", "2020-06-01", true),
            ("2015-06-01", "长期", true), ("2015-06-01", "2030-06-01", false), ("2015-06-01", "2035-06-02", false),
            ("2015-06-01", "2015-09-01", true), ("2035-06-01", "2015-06-01", false),
        ]
    )
    func validity(begin: String, end: String, plausible: Bool) {
        #expect(CardChecks.validityIsPlausible(begin: begin, end: end, birthDate: nil) == plausible)
    }

    @Test("with a birth date the period must fit the age at issue")
    func validityByAge() throws {
        let born = try #require(CardDate("1990-01-01"))
        // 25 at issue: 10 years, not 20.
        #expect(CardChecks.validityIsPlausible(begin: "2015-06-01", end: "2035-06-01", birthDate: born) == false)
        #expect(CardChecks.validityIsPlausible(begin: "2015-06-01", end: "2025-06-01", birthDate: born))
        #expect(CardChecks.validityIsPlausible(begin: "2015-06-01", end: "长期", birthDate: born) == false)
    }

    @Test(
        "dates are read in the card's and the API's formats",
        arguments: [
            ("1988-03-15", "1988-03-15"), ("1988.03.15", "1988-03-15"), ("1988年3月15日", "1988-03-15"),
            ("19880315", "1988-03-15"), ("1988 年 3 月 15 日", "1988-03-15"),
        ]
    )
    func dates(text: String, expected: String) {
        #expect(CardDate(text)?.description == expected)
    }

    @Test("impossible dates are rejected", arguments: ["1988-02-30", "1988-13-01", "abc", ""])
    func impossibleDates(text: String) {
        #expect(CardDate(text) == nil)
    }
}
