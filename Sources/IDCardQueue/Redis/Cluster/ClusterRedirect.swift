/// A Redis Cluster error reply that says where a key's slot is served.
///
/// `MOVED <slot> <host>:<port>`: the slot lives there now; update the map and send there from now
/// on. `ASK <slot> <host>:<port>`: the slot is being migrated and this key may already be on the
/// target; send this one command there, preceded by `ASKING`, and keep the map as it is.
enum ClusterRedirect: Equatable {
    case moved(slot: HashSlot, to: RedisConfiguration.Node)
    case ask(slot: HashSlot, to: RedisConfiguration.Node)

    /// The redirect in an error reply, or `nil` when it is another error. An empty host (a node
    /// that knows no address for itself) means the server that answered.
    init?(errorReply message: String, answeredBy server: RedisConfiguration.Node) {
        let parts = message.split(separator: " ")
        guard parts.count == 3, let slot = Int(parts[1]).flatMap(HashSlot.init),
            let colon = parts[2].lastIndex(of: ":"), let port = Int(parts[2][parts[2].index(after: colon)...])
        else { return nil }
        var host = String(parts[2][..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let node = RedisConfiguration.Node(host: host.isEmpty ? server.host : host, port: port)
        switch parts[0] {
        case "MOVED": self = .moved(slot: slot, to: node)
        case "ASK": self = .ask(slot: slot, to: node)
        default: return nil
        }
    }
}
