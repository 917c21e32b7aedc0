import NIOCore

extension RedisConnection {
    /// Asks each Sentinel in turn where the master is, and connects to it. A master that says it is
    /// none (`ROLE`: a Sentinel that has not yet seen a failover) is passed over for the next Sentinel.
    func connectToMaster(of sentinel: RedisConfiguration.Sentinel) -> EventLoopFuture<RedisChannel> {
        promotedReplica().flatMap { promoted in
            if let promoted { return self.eventLoop.makeSucceededFuture(promoted) }
            return self.askSentinels(sentinel, from: 0, failures: [])
        }
    }

    private func askSentinels(
        _ sentinel: RedisConfiguration.Sentinel,
        from index: Int,
        failures: [String]
    ) -> EventLoopFuture<RedisChannel> {
        guard index < sentinel.nodes.count else {
            return eventLoop.makeFailedFuture(
                RedisError.connection(
                    """
                    no Sentinel led to the master \(sentinel.masterName) \
                    (\(failures.joined(separator: "; ")))
                    """
                )
            )
        }
        let node = sentinel.nodes[index]
        return masterAddress(from: node, of: sentinel)
            .flatMap { host, port in self.openMaster(host: host, port: port, namedBy: "\(node)") }
            .flatMapError { error in
                self.askSentinels(sentinel, from: index + 1, failures: failures + ["\(node): \(error)"])
            }
    }

    /// A connection to the replica being promoted, once it says it is the master; nil when no
    /// promotion is announced, or the wait for it ran out. Tried every 10 ms.
    private func promotedReplica() -> EventLoopFuture<RedisChannel?> {
        guard let pending = promotion.withLockedValue({ $0 }) else { return eventLoop.makeSucceededFuture(nil) }
        if NIODeadline.now() >= pending.until {
            promotion.withLockedValue { if $0?.until == pending.until { $0 = nil } }
            return eventLoop.makeSucceededFuture(nil)
        }
        return openMaster(host: pending.host, port: pending.port, namedBy: "the failover")
            .map { master -> RedisChannel? in
                self.promotion.withLockedValue { if $0?.until == pending.until { $0 = nil } }
                return master
            }
            .flatMapError { _ in
                self.eventLoop.flatScheduleTask(in: .milliseconds(10)) { self.promotedReplica() }.futureResult
            }
    }

    /// A connection to `host`:`port`, logged in, once `ROLE` says it is a master.
    func openMaster(host: String, port: Int, namedBy source: String) -> EventLoopFuture<RedisChannel> {
        connector.open(host: host, port: port, login: masterLogin, readTimeout: readTimeout, events: events)
            .flatMap { master in
                master.sendFuture(["ROLE"]).flatMapThrowing { role -> RedisChannel in
                    // An ACL user without ROLE cannot check; a replica then answers writes with READONLY.
                    if case .error(let message) = role, !message.hasPrefix("NOPERM") {
                        throw RedisError.server(message)
                    }
                    if let first = role.array?.first?.string, first != "master" {
                        throw RedisError.connection(
                            "\(RedisConnector.address(host, port)), named by \(source), is a \(first), not the master"
                        )
                    }
                    return master
                }
                .flatMapErrorThrowing { error in
                    master.close()
                    throw error
                }
            }
    }

    private func masterAddress(
        from node: RedisConfiguration.Sentinel.Node,
        of sentinel: RedisConfiguration.Sentinel
    ) -> EventLoopFuture<(String, Int)> {
        let login = RedisConnector.Login(username: sentinel.username, password: sentinel.password)
        return connector.open(host: node.host, port: node.port, login: login, readTimeout: readTimeout)
            .flatMap { connection in
                connection.sendFuture(["SENTINEL", "get-master-addr-by-name", .string(sentinel.masterName)])
                    .always { _ in connection.close() }
            }
            .flatMapThrowing { reply in
                if case .error(let message) = reply {
                    throw RedisError.server("SENTINEL get-master-addr-by-name: \(message)")
                }
                guard let parts = reply.array, parts.count == 2, let host = parts[0].string, let port = parts[1].int
                else {
                    throw RedisError.connection("it does not know a master named \(sentinel.masterName)")
                }
                return (host, port)
            }
    }
}
