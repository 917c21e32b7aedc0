import IDCardContract

/// The consistency checks of docs/contract.md, "Checks", made on what a recognizer read, whichever it was.
public enum CardChecks {
    /// Every check the fields allow; `nil` when none can be made.
    public static func evaluate(_ body: [String: JSONValue]) -> ResultChecks? {
        var checks = ResultChecks()
        let number = body["idNo"]?.stringValue.map { ($0, IDNumber($0)) }
        if let (_, parsed) = number {
            checks.idNoChecksum = parsed?.hasValidChecksum ?? false
        }
        let birthday = body["birthday"]?.stringValue.flatMap(CardDate.init)
        if let number, body["birthday"] != nil {
            checks.birthdayMatchesIdNo = birthday != nil && number.1?.birthDate == birthday
        }
        if let number, let sex = body["sex"]?.stringValue {
            checks.sexMatchesIdNo = number.1.map { $0.sex == sex } ?? false
        }
        if let begin = body["effBeginDate"]?.stringValue, let end = body["effEndDate"]?.stringValue {
            checks.validityPeriodPlausible = validityIsPlausible(
                begin: begin,
                end: end,
                birthDate: birthday ?? number?.1?.birthDate
            )
        }
        return checks == ResultChecks() ? nil : checks
    }

    /// The law's periods (居民身份证法 art. 5): 5, 10 or 20 years to the day, or 长期; a temporary
    /// card's 3 months. Knowing the birth date, the period must be the one for the age at issue.
    public static func validityIsPlausible(begin: String, end: String, birthDate: CardDate?) -> Bool {
        guard let start = CardDate(begin) else { return false }
        let age = birthDate.map { $0.years(until: start) }
        if end == "长期" {
            return age.map { $0 >= 46 } ?? true
        }
        guard let finish = CardDate(end), finish > start else { return false }
        if start.adding(months: 3) == finish { return true }
        let allowed: [Int] =
            switch age {
            case nil: [5, 10, 20]
            case .some(let years) where years < 16: [5]
            case .some(let years) where years <= 25: [10]
            case .some(let years) where years <= 45: [20]
            default: []
            }
        return allowed.contains { start.adding(years: $0) == finish }
    }
}
