/// Which master serves each of the 16,384 slots, as `CLUSTER SLOTS` reports it.
///
/// Only masters are kept: a replica is never sent a command, so no write can land where it would
/// be lost or refused. A pure value, tested without servers; ``RedisCluster`` holds the current one.
struct ClusterSlotMap: Sendable, Equatable {
    /// The masters, each once.
    private(set) var masters: [RedisConfiguration.Node]
    /// Per slot, an index into ``masters``, or `-1` for a slot no master serves (the cluster is
    /// incomplete: commands on it get `CLUSTERDOWN`).
    private var owners: [Int16]

    /// A map of no slots.
    init() {
        masters = []
        owners = Array(repeating: -1, count: HashSlot.count)
    }

    /// Reads a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id, …], replica…], …]`.
    /// - Parameter server: the node that answered: an empty host or `?` names it.
    init(clusterSlots reply: RedisValue, answeredBy server: RedisConfiguration.Node) throws(RedisError) {
        self.init()
        guard let ranges = reply.array else {
            throw .unexpectedReply("CLUSTER SLOTS returned \(reply)")
        }
        for range in ranges {
            guard let parts = range.array, parts.count >= 3, let start = parts[0].int, let end = parts[1].int,
                start <= end, start >= 0, end < HashSlot.count, let master = parts[2].array, master.count >= 2,
                let host = master[0].string, let port = master[1].int
            else { throw .unexpectedReply("CLUSTER SLOTS returned a range of an unknown shape") }
            let node = RedisConfiguration.Node(host: host.isEmpty || host == "?" ? server.host : host, port: port)
            let owner = index(of: node)
            for slot in start...end { owners[slot] = owner }
        }
    }

    /// The master serving `slot`, if any.
    func master(of slot: HashSlot) -> RedisConfiguration.Node? {
        let owner = owners[slot.value]
        return owner < 0 ? nil : masters[Int(owner)]
    }

    /// What a `MOVED` reply taught: `slot` is served by `node` now (a master: only masters send it).
    mutating func move(_ slot: HashSlot, to node: RedisConfiguration.Node) {
        owners[slot.value] = index(of: node)
    }

    /// How many slots have a master.
    var coveredSlots: Int { owners.count { $0 >= 0 } }

    private mutating func index(of node: RedisConfiguration.Node) -> Int16 {
        if let known = masters.firstIndex(of: node) { return Int16(known) }
        masters.append(node)
        return Int16(masters.count - 1)
    }
}
