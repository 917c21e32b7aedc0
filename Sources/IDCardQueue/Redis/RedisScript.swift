import Crypto
import Foundation
import IDCardContract

/// A Lua script run atomically inside Redis, with named keys and arguments.
///
/// The script declares its keys and arguments by name; its Lua reads them as `K.name` and
/// `A.name`, and callers pass them by the same names
/// (``RedisClient/run(_:keys:arguments:rest:absentKey:)``), so neither side counts positions. The
/// names are resolved once, when the script is made: `K.name` becomes `KEYS[i]` and `A.name`
/// `ARGV[j]` in the source Redis runs, which costs nothing per call (a prelude building tables of
/// them cost 3 µs of Redis's time per call, a tenth of the finish script's).
///
/// A key declared optional (`"replyTo?"`) may be passed as `nil`: the command carries `absentKey`
/// in its place (a key of the same hash slot, so every key a script may touch is declared to
/// Redis; it is also `ARGV[1]`), and the Lua reads `K.replyTo` as `false`. ``RedisClient`` runs it
/// by its ``sha1``, sending the source only to a server that does not know it yet.
public struct RedisScript: Sendable {
    public let name: String
    /// Key names in `KEYS` order, without the `?` of optional ones.
    public let keys: [String]
    /// Argument names in `ARGV` order (after the absent key, `ARGV[1]`).
    public let arguments: [String]
    /// The Lua as written, reading `K.name` and `A.name`.
    public let body: String
    /// The Lua Redis runs: the body with its names resolved to positions.
    public let source: String
    /// The SHA-1 of ``source``, as Redis names a script it caches (`EVALSHA`).
    public let sha1: String
    let keyIndex: [String: Int]
    let argumentIndex: [String: Int]
    let optionalKeys: Set<String>
    /// Whether keys after the named ones are taken, as the Lua list `K.rest`.
    let takesRestKeys: Bool

    /// - Parameters:
    ///   - keys: key names, a `?` after each that may be absent.
    ///   - arguments: argument names. With `rest`, arguments after these are the script's
    ///     `A.rest`, a list (pairs of values, say).
    ///   - restKeys: keys after the named ones are the script's `K.rest`, a list: keys known only
    ///     when it is called (other workers' processing lists), still declared to Redis, as every
    ///     key a script touches must be for Redis Cluster.
    ///   - body: Lua; shared helper functions go first (``QueueScripts``). A name it reads that is
    ///     not declared stays as written, and fails loudly when the script runs (`K` is no variable).
    public init(
        name: String,
        keys: [String],
        restKeys: Bool = false,
        arguments: [String] = [],
        rest: Bool = false,
        body: String
    ) {
        self.name = name
        self.takesRestKeys = restKeys
        let names = keys.map { $0.hasSuffix("?") ? String($0.dropLast()) : $0 }
        self.keys = names
        self.arguments = arguments
        self.body = body
        optionalKeys = Set(keys.filter { $0.hasSuffix("?") }.map { String($0.dropLast()) })
        keyIndex = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        argumentIndex = Dictionary(arguments.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        var resolved: [String: String] = [:]
        for (index, name) in names.enumerated() {
            let key = "KEYS[\(index + 1)]"
            resolved["K." + name] = optionalKeys.contains(name) ? "(\(key) ~= ARGV[1] and \(key))" : key
        }
        for (index, name) in arguments.enumerated() {
            resolved["A." + name] = "ARGV[\(index + 2)]"
        }
        var prelude = ""
        if restKeys {
            prelude += "local K = {rest = {}}\n"
            prelude += "for i = \(names.count + 1), #KEYS do K.rest[#K.rest + 1] = KEYS[i] end\n"
        }
        if rest {
            prelude += "local A = {rest = {}}\n"
            prelude += "for i = \(arguments.count + 2), #ARGV do A.rest[#A.rest + 1] = ARGV[i] end\n"
        }
        let resolvedBody = prelude + Self.resolving(body, resolved)
        source = Self.checksDeclaredKeys ? Self.checkingDeclaredKeys(resolvedBody) : resolvedBody
        sha1 = Insecure.SHA1.hash(data: Data(source.utf8)).lowercaseHex
    }

    /// With `IDOCR_CHECK_SCRIPT_KEYS=1` in the environment (`scripts/test` sets it), every script
    /// fails, naming the command and key, when it touches a key it did not declare: what Redis
    /// Cluster needs (it routes a script by its keys and refuses those of another slot), checked
    /// on a single server by every test, acceptance and chaos run. Off by default: it costs a
    /// table lookup per command, and the scripts' SHA-1s differ with it.
    static let checksDeclaredKeys = ProcessInfo.processInfo.environment["IDOCR_CHECK_SCRIPT_KEYS"] == "1"

    /// `source` with each `redis.call` and `redis.pcall` going through a check of its key (the
    /// first argument; both of `LMOVE`'s) against `KEYS`. Only `TIME` takes no key here.
    static func checkingDeclaredKeys(_ source: String) -> String {
        let prelude = """
            local declaredKeys = {}
            for _, key in ipairs(KEYS) do declaredKeys[key] = true end
            local function checkedCall(call, command, ...)
              local name = string.upper(command)
              if name ~= 'TIME' then
                local first, second = ...
                if not declaredKeys[first] or (name == 'LMOVE' and not declaredKeys[second]) then
                  error('a script touched a key it did not declare: ' .. name .. ' ' .. tostring(first))
                end
              end
              return call(command, ...)
            end

            """
        return prelude
            + source.replacingOccurrences(of: "redis.call(", with: "checkedCall(redis.call, ")
            .replacingOccurrences(of: "redis.pcall(", with: "checkedCall(redis.pcall, ")
    }

    /// `body` with each `K.name` and `A.name` in `resolved` replaced; a name preceded by a letter,
    /// a digit, `_` or `.` (`OK.x`, `t.A.x`) is another variable's field and stays.
    static func resolving(_ body: String, _ resolved: [String: String]) -> String {
        var out = ""
        out.reserveCapacity(body.utf8.count + body.utf8.count / 4)
        var index = body.startIndex
        var previous: Character?
        while index < body.endIndex {
            let character = body[index]
            let isTable = character == "K" || character == "A"
            let next = body.index(after: index)
            if isTable, next < body.endIndex, body[next] == ".",
                previous.map({ !($0.isLetter || $0.isNumber || $0 == "_" || $0 == ".") }) ?? true
            {
                let nameStart = body.index(after: next)
                let nameEnd = body[nameStart...].firstIndex { !($0.isLetter || $0.isNumber) } ?? body.endIndex
                if let replacement = resolved[String(body[index..<nameEnd])] {
                    out += replacement
                    previous = replacement.last
                    index = nameEnd
                    continue
                }
            }
            out.append(character)
            previous = character
            index = next
        }
        return out
    }

    /// `EVALSHA`'s operands after the SHA: the key count, the keys, the absent key and the
    /// arguments, each placed by its name.
    /// - Throws: ``RedisScriptMisuse`` naming the script and the name that is missing, unknown or
    ///   absent without being optional: a mistake in the calling code, caught by any test that
    ///   runs the step.
    func operands(
        keys given: KeyValuePairs<String, String?>,
        arguments givenArguments: KeyValuePairs<String, RedisArgument>,
        rest: [RedisArgument],
        restKeys: [String] = [],
        absentKey: String
    ) throws(RedisScriptMisuse) -> [RedisArgument] {
        if !restKeys.isEmpty && !takesRestKeys { throw misuse("keys beyond its named ones") }
        var placedKeys = [String?](repeating: nil, count: keys.count)
        for (name, value) in given {
            guard let index = keyIndex[name] else { throw misuse("an unknown key \(name)") }
            if let value {
                placedKeys[index] = value
            } else {
                guard optionalKeys.contains(name) else { throw misuse("no value for its key \(name)") }
                placedKeys[index] = absentKey
            }
        }
        var placedArguments = [RedisArgument?](repeating: nil, count: arguments.count)
        for (name, value) in givenArguments {
            guard let index = argumentIndex[name] else { throw misuse("an unknown argument \(name)") }
            placedArguments[index] = value
        }
        if let missing = placedKeys.indices.first(where: { placedKeys[$0] == nil }) {
            throw misuse("no key \(keys[missing])")
        }
        if let missing = placedArguments.indices.first(where: { placedArguments[$0] == nil }) {
            throw misuse("no argument \(arguments[missing])")
        }
        var operands: [RedisArgument] = [.int(keys.count + restKeys.count)]
        operands.reserveCapacity(2 + keys.count + restKeys.count + arguments.count + rest.count)
        operands.append(contentsOf: placedKeys.compactMap { $0.map(RedisArgument.string) })
        operands.append(contentsOf: restKeys.map(RedisArgument.string))
        operands.append(.string(absentKey))
        operands.append(contentsOf: placedArguments.compactMap { $0 })
        operands.append(contentsOf: rest)
        return operands
    }

    private func misuse(_ what: String) -> RedisScriptMisuse {
        RedisScriptMisuse(description: "script \(name) was given \(what): the calling code does not match the script")
    }
}

/// A script called with keys or arguments it does not declare: a bug in the calling code, never
/// something Redis or a job did. Nothing was sent.
public struct RedisScriptMisuse: Error, CustomStringConvertible {
    public let description: String
}

extension RedisArgument {
    /// A yes/no argument, as scripts compare it: `'1'` or `'0'`.
    public static func flag(_ value: Bool) -> RedisArgument { value ? "1" : "0" }
}
