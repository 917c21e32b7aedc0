import Testing

@testable import IDCardQueue

/// Lua scripts called by name: what goes into `EVALSHA`, and the prelude that names it for the Lua.
@Suite("Scripts with named keys and arguments")
struct RedisScriptTests {
    static let script = RedisScript(
        name: "example",
        keys: ["list", "reply?"],
        arguments: ["element", "flag"],
        rest: true,
        body: "return 1"
    )

    static func strings(_ operands: [RedisArgument]) -> [String] {
        operands.map { argument in
            switch argument {
            case .string(let text): text
            case .data(let data): String(decoding: data, as: UTF8.self)
            }
        }
    }

    @Test("keys and arguments go where the script declares them, whatever order the caller names them in")
    func placed() throws {
        let operands = try Self.script.operands(
            keys: ["reply": "q:reply:r", "list": "q:pending"],
            arguments: ["flag": .flag(true), "element": "e"],
            rest: ["x", "1"],
            absentKey: "q:none"
        )
        #expect(Self.strings(operands) == ["2", "q:pending", "q:reply:r", "q:none", "e", "1", "x", "1"])
    }

    @Test("an optional key given as nil travels as the absent key, which the Lua reads as false")
    func absent() throws {
        let operands = try Self.script.operands(
            keys: ["list": "q:pending", "reply": nil],
            arguments: ["element": "e", "flag": .flag(false)],
            rest: [],
            absentKey: "q:none"
        )
        #expect(Self.strings(operands) == ["2", "q:pending", "q:none", "q:none", "e", "0"])
    }

    @Test("keys known only at the call travel after the named ones, counted, and the Lua reads them as K.rest")
    func restKeys() throws {
        let script = RedisScript(
            name: "lists",
            keys: ["workers"],
            restKeys: true,
            arguments: ["timeout"],
            body: "return #K.rest"
        )
        let operands = try script.operands(
            keys: ["workers": "q:workers"],
            arguments: ["timeout": "5"],
            rest: [],
            restKeys: ["q:processing:a", "q:processing:b"],
            absentKey: "q:none"
        )
        #expect(Self.strings(operands) == ["3", "q:workers", "q:processing:a", "q:processing:b", "q:none", "5"])
        #expect(script.source.contains("for i = 2, #KEYS do K.rest[#K.rest + 1] = KEYS[i] end"))
        // A script that takes none refuses them: they would be keys it never reads.
        #expect(throws: RedisScriptMisuse.self) {
            try Self.script.operands(
                keys: ["list": "q:pending", "reply": nil],
                arguments: ["element": "e", "flag": .flag(false)],
                rest: [],
                restKeys: ["q:other"],
                absentKey: "q:none"
            )
        }
    }

    @Test("the declared-key check wraps every call of the script, pcall included")
    func declaredKeyCheck() {
        let checked = RedisScript.checkingDeclaredKeys(
            "local v = redis.call('GET', KEYS[1]) return redis.pcall('TIME')"
        )
        #expect(checked.contains("checkedCall(redis.call, 'GET', KEYS[1])"))
        #expect(checked.contains("checkedCall(redis.pcall, 'TIME')"))
        #expect(!checked.contains("= redis.call("))
    }

    @Test("names resolve to positions in the source Redis runs; other variables' fields stay")
    func resolved() {
        let script = RedisScript(
            name: "resolved",
            keys: ["list", "reply?"],
            arguments: ["element"],
            body:
                "if K.reply then redis.call('LPUSH', K.reply, A.element) end "
                + "return {K.list, OK.list, t.A.element, A.other}"
        )
        let expected =
            "if (KEYS[2] ~= ARGV[1] and KEYS[2]) then redis.call('LPUSH', (KEYS[2] ~= ARGV[1] and KEYS[2]), "
            + "ARGV[2]) end return {KEYS[1], OK.list, t.A.element, A.other}"
        // Under IDOCR_CHECK_SCRIPT_KEYS=1 (scripts/test), the check wraps the same source.
        let checks = RedisScript.checksDeclaredKeys
        #expect(script.source == (checks ? RedisScript.checkingDeclaredKeys(expected) : expected))
        #expect(Self.script.source.contains("local A = {rest = {}}\nfor i = 4, #ARGV do"))
    }

    @Test("a name the script does not declare, one missing, or nil for a key that is not optional is refused")
    func misuse() {
        let keys: KeyValuePairs<String, String?> = ["list": "q:pending", "reply": nil]
        #expect(throws: RedisScriptMisuse.self) {
            try Self.script.operands(keys: keys, arguments: ["element": "e"], rest: [], absentKey: "q:none")
        }
        #expect(throws: RedisScriptMisuse.self) {
            try Self.script.operands(
                keys: keys,
                arguments: ["element": "e", "flag": "1", "other": "2"],
                rest: [],
                absentKey: "q:none"
            )
        }
        #expect(throws: RedisScriptMisuse.self) {
            try Self.script.operands(
                keys: ["list": nil, "reply": nil],
                arguments: ["element": "e", "flag": "1"],
                rest: [],
                absentKey: "q:none"
            )
        }
        #expect(throws: RedisScriptMisuse.self) {
            try Self.script.operands(
                keys: ["reply": "r"],
                arguments: ["element": "e", "flag": "1"],
                rest: [],
                absentKey: "q:none"
            )
        }
    }

    /// Every script of the queue declares distinct names that Lua can read as fields: a typo here
    /// would only show when the step runs.
    @Test("every script of the queue declares its names once, each a Lua identifier")
    func declarations() {
        let scripts = [
            QueueScripts.take, QueueScripts.gate, QueueScripts.finish, QueueScripts.retry, QueueScripts.giveBack,
            QueueScripts.restoreSuccess, QueueScripts.answerRefused, QueueScripts.requeue, QueueScripts.purge,
            QueueScripts.register, QueueScripts.heartbeat, QueueScripts.reap, QueueScripts.promote, QueueScripts.stats,
            QueueScripts.processingFingerprints, QueueScripts.giveBackByFingerprint, QueueScripts.deregister,
            RateGate.reserveScript, RateGate.refusedScript, RateGate.restartScript,
        ]
        let luaKeywords: Set<String> = [
            "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "if", "in", "local", "nil",
            "not", "or", "repeat", "return", "then", "true", "until", "while",
        ]
        for script in scripts {
            for names in [script.keys, script.arguments] {
                #expect(Set(names).count == names.count, "\(script.name) declares a name twice")
                for name in names {
                    let isIdentifier =
                        name.first.map { $0.isLetter } == true && name.allSatisfy { $0.isLetter || $0.isNumber }
                    #expect(isIdentifier && !luaKeywords.contains(name), "\(script.name): \(name)")
                }
            }
            // A name the Lua reads but the script does not declare would be nil, silently.
            let keys = script.keys + (script.takesRestKeys ? ["rest"] : [])
            for (table, declared) in [("K", keys), ("A", script.arguments + ["rest"])] {
                for read in Self.fields(of: table, in: script.body) {
                    #expect(declared.contains(read), "\(script.name) reads \(table).\(read), which it does not declare")
                }
            }
        }
    }

    /// The fields `table.name` the source reads.
    static func fields(of table: String, in source: String) -> Set<String> {
        var found: Set<String> = []
        var rest = Substring(source)
        while let range = rest.range(of: table + ".") {
            let before = rest[..<range.lowerBound].last
            let name = rest[range.upperBound...].prefix { $0.isLetter || $0.isNumber }
            if before.map({ !($0.isLetter || $0.isNumber || $0 == "_" || $0 == ".") }) ?? true, !name.isEmpty {
                found.insert(String(name))
            }
            rest = rest[range.upperBound...]
        }
        return found
    }
}
