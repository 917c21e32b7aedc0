import NIOConcurrencyHelpers
import NIOCore

/// One client's view of a Redis Cluster: which master serves each slot, and a connection to each
/// master it has sent to.
///
/// The map is read with `CLUSTER SLOTS` from a known master or a seed, before the first command
/// and again whenever the cluster's shape may have changed: a `MOVED` reply (its slot is updated
/// at once, the rest read again), a connection to a node lost or refused, `CLUSTERDOWN`. Reads
/// are futures on the client's event loop, one at a time, at most one every
/// ``refreshSpacing``; commands never wait for them except before the first map. Nothing here
/// blocks.
final class RedisCluster: Sendable {
    let configuration: RedisConfiguration
    let eventLoop: any EventLoop
    let readTimeoutSeconds: Double
    let events: RedisChannel.Events
    /// Nodes to read the map from when no known master answers.
    let seeds: [RedisConfiguration.Node]
    private let state = NIOLockedValueBox(State())

    private struct State {
        var map = ClusterSlotMap()
        var connections: [RedisConfiguration.Node: RedisConnection] = [:]
        /// The read of the map under way.
        var refreshing: EventLoopFuture<Void>?
        /// A change was seen while a read was under way: read again after it.
        var again = false
        var lastRead: NIODeadline?
        var closed = false
    }

    /// The least time between two reads of the map: a slot being migrated answers many commands
    /// with `ASK` and, at its end, `MOVED`; one read of the map covers them all.
    static let refreshSpacing = TimeAmount.milliseconds(100)

    init(
        configuration: RedisConfiguration,
        eventLoop: any EventLoop,
        readTimeoutSeconds: Double,
        events: RedisChannel.Events
    ) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.readTimeoutSeconds = readTimeoutSeconds
        self.events = events
        self.seeds = configuration.cluster?.seeds ?? []
    }

    /// The connection to the master of `route`'s slot, reading the map first if there is none yet.
    func connection(for route: ClusterRoute) async throws -> RedisConnection {
        for attempt in 0..<2 {
            let known = state.withLockedValue { state -> RedisConfiguration.Node? in
                switch route {
                case .slot(let slot): state.map.master(of: slot)
                case .anyMaster: state.map.masters.first
                }
            }
            if let known { return try connection(to: known) }
            if attempt == 0 { try await refresh().get() }
        }
        let slot = if case .slot(let slot) = route { " \(slot)" } else { "" }
        throw RedisError.server("CLUSTERDOWN no master serves slot\(slot) (\(configuration.endpointDescription))")
    }

    /// The connection to `node`, made on first use: a redirect may name a master the map does not know yet.
    /// - Throws: ``RedisError/closed`` once the client is closed.
    func connection(to node: RedisConfiguration.Node) throws(RedisError) -> RedisConnection {
        let connection = state.withLockedValue { state -> RedisConnection? in
            if state.closed { return nil }
            if let known = state.connections[node] { return known }
            var single = configuration
            single.cluster = nil
            single.host = node.host
            single.port = node.port
            single.database = 0
            let made = RedisConnection(
                configuration: single,
                eventLoop: eventLoop,
                readTimeoutSeconds: readTimeoutSeconds,
                events: events
            )
            state.connections[node] = made
            return made
        }
        guard let connection else { throw .closed }
        return connection
    }

    /// `MOVED`: `slot` is served by `node` from now on; the rest of the map is read again, as
    /// other slots probably moved with it (a failover moves all of a master's).
    func moved(_ slot: HashSlot, to node: RedisConfiguration.Node) {
        state.withLockedValue { $0.map.move(slot, to: node) }
        refreshSoon()
    }

    /// Has the map read again, without waiting for it: a node was lost, or redirected a command.
    func refreshSoon() {
        _ = refresh()
    }

    /// Reads the map from the first node that answers: the masters known, then the seeds. A read
    /// already under way is shared; one asked for meanwhile follows it.
    func refresh() -> EventLoopFuture<Void> {
        enum Next {
            case wait(EventLoopFuture<Void>)
            case read(EventLoopPromise<Void>, after: TimeAmount)
        }
        let next = state.withLockedValue { state -> Next in
            if state.closed { return .wait(eventLoop.makeFailedFuture(RedisError.closed)) }
            if let refreshing = state.refreshing {
                state.again = true
                return .wait(refreshing)
            }
            let promise = eventLoop.makePromise(of: Void.self)
            state.refreshing = promise.futureResult
            let sinceLast = state.lastRead.map { NIODeadline.now() - $0 } ?? Self.refreshSpacing
            return .read(promise, after: max(.zero, Self.refreshSpacing - sinceLast))
        }
        guard case .read(let promise, let delay) = next else {
            if case .wait(let future) = next { return future }
            return eventLoop.makeSucceededVoidFuture()
        }
        let candidates = state.withLockedValue { $0.map.masters } + seeds
        // However the nodes answer, this read ends: one that hangs must not stop every later one.
        let timeout = TimeAmount.milliseconds(Int64(readTimeoutSeconds * 3000)) + delay
        let watchdog = eventLoop.scheduleTask(in: timeout) {
            promise.fail(RedisError.connection("no node of \(self.configuration.endpointDescription) gave its slots"))
        }
        eventLoop.scheduleTask(in: delay) {}.futureResult
            .flatMap { self.readMap(from: ArraySlice(candidates), best: nil, lastError: nil) }
            .whenComplete { result in
                watchdog.cancel()
                // The map first: whoever waits for this read looks at it at once.
                if case .success(let map) = result { self.state.withLockedValue { $0.map = map } }
                promise.completeWith(result.map { _ in () })
            }
        promise.futureResult.whenComplete { _ in
            let again = self.state.withLockedValue { state -> Bool in
                guard state.refreshing === promise.futureResult else { return false }
                state.refreshing = nil
                state.lastRead = .now()
                defer { state.again = false }
                return state.again
            }
            if again { self.refreshSoon() }
        }
        return promise.futureResult
    }

    /// Asks each node in turn for `CLUSTER SLOTS` until one knows a master for every slot; with
    /// none that does, the most complete map read.
    private func readMap(
        from nodes: ArraySlice<RedisConfiguration.Node>,
        best: ClusterSlotMap?,
        lastError: (any Error)?
    ) -> EventLoopFuture<ClusterSlotMap> {
        guard let node = nodes.first else {
            if let best { return eventLoop.makeSucceededFuture(best) }
            return eventLoop.makeFailedFuture(
                lastError ?? RedisError.connection("no node of \(configuration.endpointDescription) answered")
            )
        }
        let rest = nodes.dropFirst()
        let connection: RedisConnection
        do {
            connection = try self.connection(to: node)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        return connection.channel()
            .flatMap { $0.sendFuture(["CLUSTER", "SLOTS"]) }
            .flatMapThrowing { reply throws -> ClusterSlotMap in
                if case .error(let message) = reply { throw RedisError.server("CLUSTER SLOTS: \(message)") }
                return try ClusterSlotMap(clusterSlots: reply, answeredBy: node)
            }
            .map { Result<ClusterSlotMap, any Error>.success($0) }
            .recover { .failure($0) }
            .flatMap { read in
                switch read {
                case .success(let map) where map.coveredSlots == HashSlot.count:
                    return self.eventLoop.makeSucceededFuture(map)
                case .success(let map):
                    let better = map.coveredSlots > (best?.coveredSlots ?? 0) ? map : best
                    return self.readMap(from: rest, best: better, lastError: lastError)
                case .failure(let error):
                    return self.readMap(from: rest, best: best, lastError: error)
                }
            }
    }

    /// The master the map names for `slot`, for a test's report.
    func masterDescription(of slot: HashSlot) -> String? {
        state.withLockedValue { $0.map.master(of: slot)?.description }
    }

    /// Every connection the client made, for a move of all of them (``RedisClient/reconnectSoon()``).
    var connections: [RedisConnection] { state.withLockedValue { Array($0.connections.values) } }

    /// Closes every connection; commands sent afterwards fail with ``RedisError/closed``.
    func close() async {
        let all = state.withLockedValue { state in
            state.closed = true
            return Array(state.connections.values)
        }
        for connection in all { await connection.close() }
    }
}
