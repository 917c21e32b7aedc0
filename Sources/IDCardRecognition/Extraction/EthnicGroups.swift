/// The 56 ethnic groups as printed on the card (GB 3304-91, without 族).
enum EthnicGroups {
    static let printed: [String] = [
        "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳",
        "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯",
        "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴",
        "珞巴", "基诺",
    ]
    /// Traditional forms and common misreads of printed characters.
    static let characterFixes: [Character: Character] = [
        "漢": "汉", "維": "维", "爾": "尔", "條": "条", "東": "东", "鄉": "乡", "錫": "锡", "達": "达", "納": "纳", "傈": "傈", "烏": "乌",
        "門": "门", "顏": "颜", "滿": "满", "瑤": "瑶", "壯": "壮", "鮮": "鲜", "薩": "萨", "羅": "罗", "溫": "温", "獨": "独",
        "倫": "伦", "諾": "诺", "頗": "颇", "別": "别", "龍": "龙", "畬": "畲",
    ]

    /// The printed name `text` most likely is: exact, after fixing traditional characters, or one
    /// character off a known name of the same length. Unknown values (e.g. 穿青人) are kept as read.
    static func snap(_ text: String) -> String {
        let cleaned = String(text.filter { !$0.isWhitespace && $0 != "族" }.map { characterFixes[$0] ?? $0 })
        if printed.contains(cleaned) { return cleaned }
        let candidates = printed.filter {
            $0.count == cleaned.count && cleaned.count > 1 && zip($0, cleaned).filter { $0 != $1 }.count == 1
        }
        return candidates.count == 1 ? candidates[0] : cleaned
    }
}
