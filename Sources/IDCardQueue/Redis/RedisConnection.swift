import CHiredis
import Foundation
import IDCardContract
import NIOConcurrencyHelpers

/// One hiredis connection guarded by a lock.
///
/// hiredis is blocking C: every method here blocks its thread, so callers run them on a
/// thread pool (see ``RedisClient``), never on Swift's cooperative pool. This is the only
/// `@unchecked Sendable` type of the project: the lock makes the raw `redisContext` safe to share.
final class RedisConnection: @unchecked Sendable {
    private let lock = NIOLock()
    private var context: UnsafeMutablePointer<redisContext>?
    private let configuration: RedisConfiguration
    /// Socket read timeout; blocking commands (BRPOP) need one longer than their own timeout.
    private let readTimeoutSeconds: Double
    /// Set from any thread to have the next pipeline start on a new connection (``dropSoon()``).
    private let dropRequested = NIOLockedValueBox(false)
    /// A replica the Sentinels are promoting, to connect to as soon as it says it is the master
    /// (``followPromotion(host:port:)``).
    private let promotion = NIOLockedValueBox<Promotion?>(nil)

    struct Promotion {
        var host: String
        var port: Int
        /// When to give up waiting for it and ask the Sentinels again (the failover failed).
        var until: ContinuousClock.Instant
    }

    /// How long a promotion announced by ``followPromotion(host:port:)`` is waited for.
    static let promotionWait = Duration.seconds(2)

    init(configuration: RedisConfiguration, readTimeoutSeconds: Double) {
        self.configuration = configuration
        self.readTimeoutSeconds = readTimeoutSeconds
    }

    deinit {
        if let context { redisFree(context) }
    }

    /// Sends commands in one write and reads their replies in order: one round trip for all of them,
    /// connecting first when needed. `reply` gets each command's outcome as soon as it is read, in
    /// order. A broken connection is dropped, so the next call reconnects, and every command without
    /// a reply yet fails with ``RedisError/connection(_:)``: it may or may not have run, as with any
    /// command whose reply was lost.
    func pipeline(_ commands: [[RedisArgument]], reply: (Int, Result<RedisValue, RedisError>) -> Void) {
        lock.withLock {
            if dropRequested.withLockedValue({ requested in
                defer { requested = false }
                return requested
            }) {
                dropContext()
            }
            var answered = 0
            do throws(RedisError) {
                let context = try connectedContext()
                for command in commands {
                    let status = Self.withArgv(command) { argc, argv, lengths in
                        redisAppendCommandArgv(context, argc, argv, lengths)
                    }
                    if status != REDIS_OK { throw brokenConnection(context) }
                }
                while answered < commands.count {
                    var raw: UnsafeMutableRawPointer?
                    guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw brokenConnection(context) }
                    let value = Self.value(of: raw.assumingMemoryBound(to: redisReply.self))
                    freeReplyObject(raw)
                    reply(answered, .success(value))
                    answered += 1
                }
            } catch {
                for index in answered..<commands.count { reply(index, .failure(error)) }
            }
        }
    }

    /// Subscribes to `channels` and hands each message's channel and text to `message`, until
    /// `shouldStop` says so (asked at least every read timeout) or the connection fails (thrown).
    /// `subscribed` is called once the server confirms every channel: from then on no message is
    /// missed, so a caller can look at the state it waits for, then wait for a message.
    /// Blocks its thread throughout: for a connection of its own on a thread of its own.
    func listen(
        to channels: [String],
        subscribed: () -> Void = {},
        shouldStop: () -> Bool,
        message: (String, String) -> Void
    ) throws(RedisError) {
        let outcome = lock.withLock { () -> Result<Void, RedisError> in
            defer { dropContext() }
            do throws(RedisError) {
                try listening(to: channels, subscribed: subscribed, shouldStop: shouldStop, message: message)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try outcome.get()
    }

    private func listening(
        to channels: [String],
        subscribed: () -> Void,
        shouldStop: () -> Bool,
        message: (String, String) -> Void
    ) throws(RedisError) {
        let context = try connectedContext()
        var confirmed = 0
        let status = Self.withArgv(["SUBSCRIBE"] + channels.map { .string($0) }) { argc, argv, lengths in
            redisAppendCommandArgv(context, argc, argv, lengths)
        }
        if status != REDIS_OK { throw .connection(Self.errorString(context)) }
        while !shouldStop() {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
                // Nothing within the read timeout: hiredis marks the context failed, though
                // nothing was half read; clear it and wait again.
                if context.pointee.err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    context.pointee.err = 0
                    continue
                }
                throw .connection(Self.errorString(context))
            }
            let value = Self.value(of: raw.assumingMemoryBound(to: redisReply.self))
            freeReplyObject(raw)
            if let parts = value.array, parts.count == 3, parts[0].string == "message", let channel = parts[1].string,
                let text = parts[2].string
            {
                message(channel, text)
            } else if let parts = value.array, parts.first?.string == "subscribe" {
                confirmed += 1
                if confirmed == channels.count { subscribed() }
            }
        }
    }

    /// Drops a context that failed, returning its error.
    private func brokenConnection(_ context: UnsafeMutablePointer<redisContext>) -> RedisError {
        let error = RedisError.connection(Self.errorString(context))
        dropContext()
        return error
    }

    /// Has the next ``pipeline(_:reply:)`` connect anew, without waiting for the one in progress:
    /// after `READONLY`, the server this connection reached is no master any more.
    func dropSoon() {
        dropRequested.withLockedValue { $0 = true }
    }

    /// Has the next ``pipeline(_:reply:)`` leave the master for the replica at `host`:`port`,
    /// which a Sentinel is about to promote (`+failover-state-send-slaveof-noone`). The new
    /// connection waits until the replica says it is the master, at most ``promotionWait``:
    /// nothing is written to the old master from now on, where the writes would be lost when it
    /// rejoins as a replica. (The Sentinels name the new master only a second or so later.)
    func followPromotion(host: String, port: Int) {
        promotion.withLockedValue { $0 = Promotion(host: host, port: port, until: .now + Self.promotionWait) }
        dropSoon()
    }

    /// Closes the socket; the next ``pipeline(_:)`` reconnects.
    func close() {
        lock.withLock { dropContext() }
    }

    private func dropContext() {
        if let context { redisFree(context) }
        context = nil
    }

    private func connectedContext() throws(RedisError) -> UnsafeMutablePointer<redisContext> {
        if let context { return context }
        let fresh: UnsafeMutablePointer<redisContext>
        if let sentinel = configuration.sentinel {
            fresh = try connectToMaster(of: sentinel)
        } else {
            fresh = try open(host: configuration.host, port: configuration.port)
            do {
                try logIn(fresh)
            } catch {
                redisFree(fresh)
                throw error
            }
        }
        context = fresh
        return fresh
    }

    /// A new connection, with this connection's read timeout and TCP keep-alive.
    private func open(host: String, port: Int) throws(RedisError) -> UnsafeMutablePointer<redisContext> {
        let connectTimeout = Self.timeval(seconds: configuration.timeoutSeconds)
        guard let fresh = redisConnectWithTimeout(host, Int32(port), connectTimeout) else {
            throw .connection("cannot allocate a hiredis context")
        }
        if fresh.pointee.err != 0 {
            let message = Self.errorString(fresh)
            redisFree(fresh)
            throw .connection("\(host):\(port): \(message)")
        }
        redisSetTimeout(fresh, Self.timeval(seconds: readTimeoutSeconds))
        redisEnableKeepAlive(fresh)
        return fresh
    }

    /// AUTH and SELECT, as the configuration says.
    private func logIn(_ context: UnsafeMutablePointer<redisContext>) throws(RedisError) {
        if let password = configuration.password {
            try expectOK(
                configuration.username.map { ["AUTH", .string($0), .string(password)] } ?? ["AUTH", .string(password)],
                on: context
            )
        }
        if configuration.database != 0 {
            try expectOK(["SELECT", .string(String(configuration.database))], on: context)
        }
    }

    /// Asks each Sentinel in turn where the master is, and connects to it. A master that says it is
    /// none (`ROLE`: a Sentinel that has not yet seen a failover) is passed over for the next Sentinel.
    private func connectToMaster(
        of sentinel: RedisConfiguration.Sentinel
    ) throws(RedisError) -> UnsafeMutablePointer<redisContext> {
        if let promoted = promotedReplica() { return promoted }
        var failures: [String] = []
        for node in sentinel.nodes {
            do throws(RedisError) {
                let (host, port) = try masterAddress(from: node, of: sentinel)
                return try openMaster(host: host, port: port, namedBy: "\(node)")
            } catch {
                failures.append("\(node): \(error)")
            }
        }
        throw .connection("no Sentinel led to the master \(sentinel.masterName) (\(failures.joined(separator: "; ")))")
    }

    /// A connection to the replica being promoted, once it says it is the master; nil when no
    /// promotion is announced, or the wait for it ran out.
    private func promotedReplica() -> UnsafeMutablePointer<redisContext>? {
        while let pending = promotion.withLockedValue({ $0 }) {
            if ContinuousClock.now >= pending.until {
                promotion.withLockedValue { if $0?.until == pending.until { $0 = nil } }
                return nil
            }
            if let master = try? openMaster(host: pending.host, port: pending.port, namedBy: "the failover") {
                promotion.withLockedValue { if $0?.until == pending.until { $0 = nil } }
                return master
            }
            usleep(10_000)
        }
        return nil
    }

    /// A connection to `host`:`port`, logged in, once `ROLE` says it is a master.
    private func openMaster(
        host: String,
        port: Int,
        namedBy source: String
    ) throws(RedisError) -> UnsafeMutablePointer<redisContext> {
        let master = try open(host: host, port: port)
        do throws(RedisError) {
            try logIn(master)
            // An ACL user without ROLE cannot check; a replica then answers writes with READONLY.
            let role = try command(["ROLE"], on: master)
            if case .error(let message) = role, !message.hasPrefix("NOPERM") { throw .server(message) }
            if let first = role.array?.first?.string, first != "master" {
                throw .connection("\(host):\(port), named by \(source), is a \(first), not the master")
            }
            return master
        } catch {
            redisFree(master)
            throw error
        }
    }

    private func masterAddress(
        from node: RedisConfiguration.Sentinel.Node,
        of sentinel: RedisConfiguration.Sentinel
    ) throws(RedisError) -> (String, Int) {
        let connection = try open(host: node.host, port: node.port)
        defer { redisFree(connection) }
        if let password = sentinel.password {
            try expectOK(
                sentinel.username.map { ["AUTH", .string($0), .string(password)] } ?? ["AUTH", .string(password)],
                on: connection
            )
        }
        let reply = try command(["SENTINEL", "get-master-addr-by-name", .string(sentinel.masterName)], on: connection)
        if case .error(let message) = reply { throw .server("SENTINEL get-master-addr-by-name: \(message)") }
        guard let parts = reply.array, parts.count == 2, let host = parts[0].string, let port = parts[1].int else {
            throw .connection("it does not know a master named \(sentinel.masterName)")
        }
        return (host, port)
    }

    private func command(
        _ arguments: [RedisArgument],
        on context: UnsafeMutablePointer<redisContext>
    ) throws(RedisError) -> RedisValue {
        guard let raw = Self.withArgv(arguments, { redisCommandArgv(context, $0, $1, $2) }) else {
            throw .connection(Self.errorString(context))
        }
        defer { freeReplyObject(raw) }
        return Self.value(of: raw.assumingMemoryBound(to: redisReply.self))
    }

    private func expectOK(
        _ arguments: [RedisArgument],
        on context: UnsafeMutablePointer<redisContext>
    ) throws(RedisError) {
        if case .error(let message) = try command(arguments, on: context) {
            // Never echo the command: it carries the password.
            throw .server("\(arguments.first?.description ?? "command") failed: \(message)")
        }
    }

    /// Hands hiredis pointers to every argument. Text arguments (names, keys, numbers) are laid
    /// out in one small buffer; byte arguments (jobs, images, results) are read where they are,
    /// so a 20 MB job is not copied once more before hiredis formats the command.
    private static func withArgv<R>(
        _ arguments: [RedisArgument],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        var text = [UInt8]()
        var offsets = [Int](repeating: 0, count: arguments.count)
        var lengths = [Int](repeating: 0, count: arguments.count)
        for (index, argument) in arguments.enumerated() {
            lengths[index] = argument.byteCount
            if case .string(let value) = argument {
                offsets[index] = text.count
                text.append(contentsOf: value.utf8)
            }
        }
        text.append(0)  // never empty: a base address for empty arguments too
        return text.withUnsafeBufferPointer { textBytes in
            let textBase = UnsafeRawPointer(textBytes.baseAddress!).assumingMemoryBound(to: CChar.self)
            var pointers = offsets.map { Optional(textBase + $0) }
            func bind(from index: Int) -> R {
                guard index < arguments.count else {
                    return pointers.withUnsafeMutableBufferPointer { argv in
                        lengths.withUnsafeBufferPointer {
                            body(Int32(arguments.count), argv.baseAddress!, $0.baseAddress!)
                        }
                    }
                }
                guard case .data(let data) = arguments[index], !data.isEmpty else { return bind(from: index + 1) }
                return data.withUnsafeBytes { raw in
                    pointers[index] =
                        raw.baseAddress.map { UnsafePointer($0.assumingMemoryBound(to: CChar.self)) } ?? textBase
                    return bind(from: index + 1)
                }
            }
            return bind(from: 0)
        }
    }

    private static func value(of reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            return .bulk(r.str.map { Data(bytes: $0, count: r.len) } ?? Data())
        case REDIS_REPLY_STATUS:
            return .status(
                r.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: r.len), as: UTF8.self) } ?? ""
            )
        case REDIS_REPLY_ERROR:
            return .error(
                r.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: r.len), as: UTF8.self) } ?? ""
            )
        case REDIS_REPLY_INTEGER:
            return .integer(Int(r.integer))
        case REDIS_REPLY_ARRAY:
            var values = [RedisValue]()
            values.reserveCapacity(r.elements)
            for index in 0..<r.elements {
                if let element = r.element[index] { values.append(value(of: element)) } else { values.append(.null) }
            }
            return .array(values)
        default:
            return .null
        }
    }

    private static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            let text = String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            return text.isEmpty ? "connection lost" : text
        }
    }

    private static func timeval(seconds: Double) -> Foundation.timeval {
        let whole = Int(seconds)
        return Foundation.timeval(tv_sec: whole, tv_usec: Int(((seconds - Double(whole)) * 1_000_000).rounded()))
    }
}
