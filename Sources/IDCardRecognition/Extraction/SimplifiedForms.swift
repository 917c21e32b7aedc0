/// Mainland cards print simplified characters only, but the recognizer's model also knows the
/// traditional forms and sometimes answers with one (`強` for `强`). Names, addresses and
/// authorities are mapped back, one character at a time.
///
/// Not a full conversion table: the traditional forms of characters common in names, addresses
/// and place names, where a one-to-one mapping is unambiguous.
enum SimplifiedForms {
    static let pairs = """
        強强偉伟華华國国東东長长陳陈劉刘張张楊杨黃黄趙赵吳吴孫孙馬马鄭郑謝谢韓韩馮冯鄧邓許许盧卢蔣蒋葉叶蕭萧羅罗錢钱\
        鍾钟譚谭陸陆賈贾顧顾龔龚萬万嚴严湯汤閻阎賀贺龍龙鳳凤傑杰麗丽靜静紅红軍军濤涛艷艳豔艳鵬鹏飛飞雲云嬌娇寧宁輝辉\
        興兴廣广區区縣县鎮镇鄉乡號号樓楼單单園园貴贵蘭兰亞亚愛爱寶宝慶庆漢汉蘇苏魯鲁齊齐義义會会學学進进曉晓濱滨劍剑\
        鋒锋鋼钢銀银鐵铁聰聪穎颖瑩莹雙双鳴鸣鶴鹤鷹鹰書书詩诗語语傳传億亿倫伦僑侨儀仪兒儿協协發发問问團团圓圆壽寿夢梦\
        將将嶺岭峽峡帥帅廳厅錦锦憲宪戰战數数暉晖棟栋樂乐歡欢歲岁歷历氣气測测濟济潔洁澤泽灣湾熱热燈灯爾尔獻献環环現现\
        瑋玮畢毕當当監监碩硕礦矿禮礼穩稳競竞筆笔範范築筑簡简紀纪約约純纯紗纱級级絲丝維维綠绿網网線线總总織织繼继續续\
        聖圣聞闻聯联聲声與与舉举舊旧莊庄萊莱藍蓝藝艺蘆芦處处衛卫裝装見见規规視视親亲覺觉觀观計计記记設设證证詳详誠诚\
        誼谊調调談谈論论講讲護护讀读貝贝財财貞贞賢贤質质購购躍跃車车軒轩輕轻輪轮農农連连運运過过達达遠远選选遼辽郵邮\
        鄰邻醫医錄录鎖锁門门開开間间閣阁關关陽阳陰阴際际隊队隨随險险雞鸡離离難难電电靈灵韋韦順顺頌颂領领頭头題题顏颜\
        風风館馆驗验體体鬥斗魚鱼鮮鲜鳥鸟麥麦齡龄嶽岳塢坞瀋沈蕪芜贛赣滬沪閩闽粵粤隴陇晉晋瓊琼陝陕臺台灣湾莊庄鄒邹範范\
        鄺邝鄔邬韋韦龐庞閔闵單单蔔卜緒绪鐘钟雜杂橋桥塊块壩坝縣县礎础層层廈厦橫横灘滩凱凯門门廟庙鋪铺階阶際际
        """

    static let table: [Character: Character] = {
        var table: [Character: Character] = [:]
        let characters = Array(pairs.filter { !$0.isWhitespace })
        for index in stride(from: 0, to: characters.count - 1, by: 2) where characters[index] != characters[index + 1] {
            table[characters[index]] = characters[index + 1]
        }
        return table
    }()

    static func simplified(_ text: String) -> String {
        String(text.map { table[$0] ?? $0 })
    }
}
