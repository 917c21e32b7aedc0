import IDCardContract

/// Operators' steps on `P:{Q}:dead`.
extension QueueScripts {
    /// Puts one dead letter back on `pending` and forgets the job's counters. An oversized
    /// element (`oversizedField`: its field) comes back from where the take kept it. Returns 1, 0 when the
    /// letter is gone already, -1 when it stays (its kept element is gone). `element` is '' for an
    /// oversized one, `id` '' for none.
    static let requeue = RedisScript(
        name: "requeue",
        keys: ["dead", "pending", "attempts", "oversized"],
        arguments: ["letter", "element", "id", "oversizedField"],
        body: """
            local element = A.element
            if A.oversizedField ~= '' then
              element = redis.call('HGET', K.oversized, A.oversizedField)
              -- The kept element is gone (purged): the letter stays, and says what it was.
              if not element then return -1 end
            end
            local removed = redis.call('LREM', K.dead, 1, A.letter)
            if removed > 0 then
              redis.call('LPUSH', K.pending, element)
              if A.oversizedField ~= '' then redis.call('HDEL', K.oversized, A.oversizedField) end
              if A.id ~= '' then redis.call('HDEL', K.attempts, A.id) end
            end
            return removed
            """
    )

    /// Drops the dead list and the oversized elements its letters kept, returning how many letters there were.
    static let purge = RedisScript(
        name: "purge",
        keys: ["dead", "oversized"],
        arguments: [],
        body: """
            local count = redis.call('LLEN', K.dead)
            redis.call('DEL', K.dead, K.oversized)
            return count
            """
    )
}
