import Foundation
import IDCardQueue
import Testing

@testable import IDCardDashboard

@Suite("The dashboard's masks: what a role without reveal sees")
struct PersonalDataMaskTests {
    @Test("names keep their first and last character")
    func names() {
        #expect(PersonalDataMask.name("王小明") == "王*明")
        #expect(PersonalDataMask.name("欧阳小明") == "欧**明")
        #expect(PersonalDataMask.name("王明") == "王*")
        #expect(PersonalDataMask.name("王") == "*")
        #expect(PersonalDataMask.name("买买提·艾力") == "买****力")
    }

    @Test("numbers keep the first four and the last four")
    func numbers() {
        #expect(PersonalDataMask.number("11010519491231002X") == "1101**********002X")
        #expect(PersonalDataMask.number("110105491231002") == "1101*******1002")
        #expect(PersonalDataMask.number("12345") == "*****")
    }

    @Test("addresses are cut after the district, or the city when there is none")
    func addresses() {
        #expect(PersonalDataMask.address("北京市朝阳区测试路1号") == "北京市朝阳区…")
        #expect(PersonalDataMask.address("湖北省武汉市洪山区珞喻路1037号") == "湖北省武汉市洪山区…")
        #expect(PersonalDataMask.address("测试省示例市中山路12号") == "测试省示例市…")
        #expect(PersonalDataMask.address("浙江省杭州市西湖县某某村") == "浙江省杭州市西湖县…")
        // A street name that carries 市 is not a city: the cut comes at the district before it.
        #expect(PersonalDataMask.address("北京市朝阳区新市街3号") == "北京市朝阳区…")
        #expect(PersonalDataMask.address("中关村大街27号") == "…", "no division named: none of it")
        #expect(PersonalDataMask.address("北京市１２号") == "北京市…")
    }

    @Test("京 and other characters Unicode calls numbers do not end the address early")
    func numericIdeographs() {
        #expect(PersonalDataMask.address("南京市玄武区中山路1号") == "南京市玄武区…")
    }

    @Test("birthdays keep the year")
    func birthdays() {
        #expect(PersonalDataMask.birthday("1949-12-31") == "1949-**-**")
        #expect(PersonalDataMask.birthday("19491231") == "1949-**-**")
        #expect(PersonalDataMask.birthday("abc") == "***")
    }

    @Test("free text: any run shaped like an ID number is masked, other digits stay")
    func scrub() {
        #expect(PersonalDataMask.scrub("order-11010519491231002X-front") == "order-1101**********002X-front")
        #expect(PersonalDataMask.scrub("id 110105491231002 seen") == "id 1101*******1002 seen")
        #expect(PersonalDataMask.scrub("order-7781-front") == "order-7781-front")
        #expect(PersonalDataMask.scrub("the job is 5242880 bytes") == "the job is 5242880 bytes")
        #expect(PersonalDataMask.scrub("no 110105 19491231 002X here") == "no 1101**********002X here")
        #expect(PersonalDataMask.scrub("号码１１０１０５１９４９１２３１００２Ｘ") != "号码１１０１０５１９４９１２３１００２Ｘ")
        #expect(PersonalDataMask.scrub("号码１１０１０５１９４９１２３１００２X") == "号码1101**********002X")
        #expect(PersonalDataMask.scrub("call 010-1234-5678 now") == "call 010-1234-5678 now")
    }

    @Test("every personal field of a result is masked by field name; others pass")
    func fields() {
        #expect(PersonalDataMask.field("idNo", "11010519491231002X") == "1101**********002X")
        #expect(PersonalDataMask.field("sex", "男") == "男")
        #expect(PersonalDataMask.maskedFields == ["name", "idNo", "addr", "birthday"])
    }
}

@Suite("The dashboard's access: passwords, users, roles, sessions, proxies")
struct DashboardAccessTests {
    @Test("a password hash verifies its password only, and reads back from its text")
    func passwordHash() throws {
        let hash = try PasswordHash.make(password: "correct horse", costLog2: 10)
        #expect(hash.verify("correct horse"))
        #expect(!hash.verify("correct horse "))
        let read = try #require(PasswordHash(encoded: hash.encoded))
        #expect(read == hash)
        #expect(read.verify("correct horse"))
    }

    @Test("passlib's scrypt form (`.` for `+`, no padding) is read")
    func passlibForm() throws {
        let hash = try PasswordHash.make(password: "pw-for-passlib", costLog2: 10)
        let passlib =
            "$scrypt$ln=10,r=8,p=1$"
            + Data(hash.salt).base64EncodedString().replacingOccurrences(of: "+", with: ".")
            .replacingOccurrences(of: "=", with: "") + "$"
            + Data(hash.hash).base64EncodedString().replacingOccurrences(of: "+", with: ".")
            .replacingOccurrences(of: "=", with: "")
        #expect(PasswordHash(encoded: passlib)?.verify("pw-for-passlib") == true)
    }

    @Test("malformed hashes are refused, not guessed at")
    func malformedHashes() {
        for text in [
            "", "plain", "$scrypt$ln=15,r=8$AAAA$BBBB", "$bcrypt$ln=15,r=8,p=1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==",
            "$scrypt$ln=40,r=8,p=1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==",
        ] {
            #expect(PasswordHash(encoded: text) == nil, "\(text)")
        }
    }

    @Test("a users file: roles add up; a bad line is named by number, its hash never shown")
    func usersFile() throws {
        let hash = try PasswordHash.make(password: "pw-12345678", costLog2: 10)
        let users = try UsersFile(
            parsing: "# operators\n\nalice operator,revealer \(hash.encoded)\nbob viewer \(hash.encoded)\n",
            source: "users.txt"
        )
        #expect(users.users["alice"]?.roles == [.operator, .revealer])
        #expect(users.users["bob"]?.roles == [.viewer])
        let secret = "$scrypt$ln=10,r=8,p=1$c2VjcmV0c2FsdA==$bm90LWEtcmVhbC1oYXNoLWF0LWFsbA"
        for (text, says) in [
            ("alice boss \(hash.encoded)", "roles are viewer"), ("alice viewer", "not NAME ROLES HASH"),
            ("al ice viewer x", "not NAME ROLES HASH"), ("alice viewer \(secret)x$", "the hash is not"),
            ("alice viewer \(hash.encoded)\nalice admin \(hash.encoded)", "alice again"),
        ] {
            let error = #expect(throws: (any Error).self) { try UsersFile(parsing: text, source: "users.txt") }
            let message = "\(error.map { "\($0)" } ?? "")"
            #expect(message.contains(says), "\(message)")
            #expect(!message.contains("c2VjcmV0"), "\(message)")
        }
    }

    @Test("roles grant what their names say; acting and revealing are separate")
    func roles() {
        #expect(Role.viewer.permissions == [.view])
        #expect(Role.operator.permissions == [.view, .act])
        #expect(Role.revealer.permissions == [.view, .reveal])
        #expect(Role.admin.permissions == Set(Permission.allCases))
    }

    @Test("a session accepts its own CSRF token only")
    func csrf() throws {
        let store = SessionStore(idle: .seconds(60), lifetime: .seconds(600))
        let id = store.open(user: "alice", roles: [.operator])
        let session = try #require(store.session(for: id, touching: true))
        #expect(session.acceptsCSRF(session.csrfToken))
        #expect(!session.acceptsCSRF(nil))
        #expect(!session.acceptsCSRF(""))
        #expect(!session.acceptsCSRF(String(repeating: "0", count: 64)))
    }

    @Test("sessions end after the idle time and after their lifetime, whatever the activity")
    func sessionExpiry() {
        let store = SessionStore(idle: .seconds(60), lifetime: .seconds(150))
        let start = ContinuousClock.now
        let id = store.open(user: "alice", roles: [.viewer], now: start)
        #expect(store.session(for: id, now: start + .seconds(50)) != nil)
        #expect(store.session(for: id, now: start + .seconds(100)) != nil)
        #expect(store.session(for: id, now: start + .seconds(149)) != nil)
        #expect(store.session(for: id, now: start + .seconds(151)) == nil)
        let idle = store.open(user: "bob", roles: [.viewer], now: start)
        #expect(store.session(for: idle, now: start + .seconds(61)) == nil)
        // The page's polling does not keep a forgotten tab signed in.
        let polled = store.open(user: "carol", roles: [.viewer], now: start)
        #expect(store.session(for: polled, touching: false, now: start + .seconds(40)) != nil)
        #expect(store.session(for: polled, touching: false, now: start + .seconds(61)) == nil)
        #expect(store.session(for: "made-up", now: start) == nil)
        #expect(store.session(for: nil, now: start) == nil)
    }

    @Test("a flash message shows once")
    func flash() {
        let store = SessionStore(idle: .seconds(60), lifetime: .seconds(600))
        let id = store.open(user: "alice", roles: [.viewer])
        store.flash("requeued 3", for: id)
        #expect(store.takeFlash(for: id) == "requeued 3")
        #expect(store.takeFlash(for: id) == nil)
    }

    @Test(
        "attempts past the free ones wait, doubling; at once, they count before any is checked; a success clears them"
    )
    func throttle() {
        let throttle = LoginThrottle(freeFailures: 3, longestWait: .seconds(8))
        let start = ContinuousClock.now
        // Three let through at once, none checked yet: the fourth already waits.
        for _ in 0..<3 { #expect(throttle.begin("alice", now: start) == nil) }
        #expect(throttle.begin("alice", now: start) != nil)
        #expect(throttle.begin("alice", now: start + .seconds(2)) == nil, "1 s after the last")
        #expect(throttle.begin("alice", now: start + .seconds(3)) != nil, "then 2 s")
        #expect(throttle.begin("alice", now: start + .seconds(5)) == nil)
        #expect(throttle.begin("bob", now: start) == nil, "per name")
        throttle.succeeded("alice")
        #expect(throttle.begin("alice", now: start + .seconds(5)) == nil)
        let small = LoginThrottle(freeFailures: 1, capacity: 2)
        for name in ["a", "b", "c", "d", "e"] {
            #expect(small.begin(name, now: start) == nil)
            #expect(small.count <= 2, "bounded")
        }
        #expect(small.begin("e", now: start) != nil, "the name just let through is kept")
    }

    @Test("trusted proxies: CIDRs of both families; IPv4-mapped IPv6 counts as IPv4; anything else is not trusted")
    func trustedProxies() throws {
        let proxies = try TrustedProxies(list: "10.0.0.0/8, 192.168.1.7, fd00::/8")
        #expect(proxies.trusts("10.1.2.3"))
        #expect(proxies.trusts("::ffff:10.9.9.9"))
        #expect(proxies.trusts("192.168.1.7"))
        #expect(!proxies.trusts("192.168.1.8"))
        #expect(proxies.trusts("fd12::1"))
        #expect(!proxies.trusts("fe80::1"))
        #expect(!proxies.trusts("11.0.0.1"))
        #expect(!proxies.trusts(nil))
        #expect(!proxies.trusts("not an address"))
        #expect(throws: (any Error).self) { try TrustedProxies(list: "10.0.0.0/33") }
        #expect(throws: (any Error).self) { try TrustedProxies(list: "example.com") }
    }

    @Test("proxy roles: group=role pairs; an unknown role is refused with the list of roles")
    func proxyRoles() throws {
        #expect(
            try DashboardConfiguration.groupRoles("ops=operator, kyc = revealer") == [
                "ops": .operator, "kyc": .revealer,
            ]
        )
        #expect(throws: (any Error).self) { try DashboardConfiguration.groupRoles("ops=root") }
    }
}

@Suite("The dashboard's pages: markup, filters, rates")
struct DashboardPageTests {
    @Test("interpolated text is escaped; markup stays markup")
    func escaping() {
        let hostile = "<script>alert('x')</script>&"
        let page: HTML = "<p>\(hostile)</p>\("<b>" as HTML)"
        #expect(page.rendered == "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</p><b>")
        let link: HTML = "<a href=\"/queues/\(url: "a b/c")\">"
        #expect(link.rendered == "<a href=\"/queues/a%20b%2Fc\">")
    }

    @Test("filter times: a datetime-local value reads as the contract's UTC form; others are dropped")
    func filterTimes() {
        #expect(DeadLetterFilter.time("2026-12-04T21:30") == "2026-12-04T21:30:00.000Z")
        #expect(DeadLetterFilter.time("2026-12-04T21:30:05") == "2026-12-04T21:30:05.000Z")
        #expect(DeadLetterFilter.time("2026-12-04T21:30:05.123Z") == "2026-12-04T21:30:05.123Z")
        #expect(DeadLetterFilter.time("yesterday") == nil)
        #expect(DeadLetterFilter.time("2026-12-04 21:30") == nil)
        let filter = DeadLetterFilter(code: "not_recognized", since: "2026-12-04T21:00", until: "2026-12-04T22:00")
        #expect(filter.code == .notRecognized)
        #expect(DeadLetterFilter(code: "no_such_code", since: nil, until: nil).code == nil)
    }

    @Test("rates per minute from the history's running totals, once it spans 50 s")
    func rates() {
        func sample(_ at: Int64, succeeded: Int, failed: Int) -> HistorySample {
            var stats = QueueStats(queue: "q", pending: 0, processing: 0, delayed: 0, dead: 0, workers: 1)
            stats.succeeded = succeeded
            stats.failed = failed
            return HistorySample(stats: stats, at: at)
        }
        #expect(
            QueueRates.lastMinute(history: [
                sample(0, succeeded: 0, failed: 0), sample(40_000, succeeded: 9, failed: 0),
            ]) == nil
        )
        let rates = QueueRates.lastMinute(history: [
            sample(0, succeeded: 0, failed: 0), sample(30_000, succeeded: 50, failed: 1),
            sample(60_000, succeeded: 120, failed: 3),
        ])
        #expect(rates == QueueRates(succeeded: 120, failed: 3, retried: 0))
    }
}
