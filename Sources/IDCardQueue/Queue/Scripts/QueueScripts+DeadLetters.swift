import IDCardContract

/// Operators' steps on `P:{Q}:dead`.
extension QueueScripts {
    /// Puts one dead letter back on `pending` and forgets the job's counters. An oversized
    /// element (ARGV[4]: its field) comes back from where the take kept it. Returns 1, 0 when the
    /// letter is gone already, -1 when it stays (its kept element is gone).
    static let requeue = RedisScript(name: "requeue", source: """
        -- KEYS: dead, pending, attempts, oversized   ARGV: dead letter, job element ('' = oversized), job id ('' = none), oversized field
        local element = ARGV[2]
        if ARGV[4] ~= '' then
          element = redis.call('HGET', KEYS[4], ARGV[4])
          -- The kept element is gone (purged): the letter stays, and says what it was.
          if not element then return -1 end
        end
        local removed = redis.call('LREM', KEYS[1], 1, ARGV[1])
        if removed > 0 then
          redis.call('LPUSH', KEYS[2], element)
          if ARGV[4] ~= '' then redis.call('HDEL', KEYS[4], ARGV[4]) end
          if ARGV[3] ~= '' then redis.call('HDEL', KEYS[3], ARGV[3]) end
        end
        return removed
        """)

    /// Drops the dead list and the oversized elements its letters kept, returning how many letters there were.
    static let purge = RedisScript(name: "purge", source: """
        -- KEYS: dead, oversized
        local count = redis.call('LLEN', KEYS[1])
        redis.call('DEL', KEYS[1], KEYS[2])
        return count
        """)
}
