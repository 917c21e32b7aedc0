import IDCardContract

/// The fleet's housekeeping: registration and heartbeats, recovery of dead workers' jobs, due
/// retries, depths.
extension QueueScripts {
    /// Registers a worker under a new epoch, fencing off any earlier registration of the same id.
    /// Whatever its processing list still holds belonged to a process that is gone (a container
    /// restarted under the same `IDOCR_WORKER_ID`, or this process before it was reaped): it is
    /// recovered as the reaper would, losses counted. Returns `{epoch, recovered, set-aside, seconds, µs}`.
    static let register = RedisScript(name: "register", source: recoverLua + """
        -- KEYS: workers, epochs, epoch counter, processing, pending, paused
        -- ARGV: worker, lost key prefix, max losses, lost key ttl s
        -- Above the last one handed out, and above Redis's clock in µs: a new master that never got
        -- the old one's last epoch does not hand it out again.
        local t = redis.call('TIME')
        local epoch = math.max(tonumber(redis.call('GET', KEYS[3]) or '0') + 1, tonumber(t[1]) * 1000000 + tonumber(t[2]))
        epoch = string.format('%.0f', epoch)
        redis.call('SET', KEYS[3], epoch)
        redis.call('HSET', KEYS[2], ARGV[1], epoch)
        redis.call('HDEL', KEYS[6], ARGV[1])
        local leftovers, setAside = redis.call('LRANGE', KEYS[4], 0, -1), {}
        redis.call('DEL', KEYS[4])
        -- Newest first, as the reaper pops them: the oldest ends up rightmost in pending, taken first.
        for _, element in ipairs(leftovers) do
          recover(element, KEYS[5], KEYS[4], ARGV[2], tonumber(ARGV[3]), ARGV[4], setAside)
        end
        redis.call('ZADD', KEYS[1], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
        return {epoch, #leftovers - #setAside, setAside, t[1], t[2]}
        """)

    /// Records a worker's heartbeat and whether it is paused, unless its registration is over.
    /// Returns `{1 (beating) or 0 (fenced: reaped), seconds, µs}` with Redis's clock.
    static let heartbeat = RedisScript(name: "heartbeat", source: registeredLua + """
        -- KEYS: workers, paused, epochs   ARGV: worker, why it is paused ('' = ready), epoch
        local t = redis.call('TIME')
        if not registered(KEYS[3], ARGV[1], ARGV[3]) then return {0, t[1], t[2]} end
        if ARGV[2] == '' then redis.call('HDEL', KEYS[2], ARGV[1]) else redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
        redis.call('ZADD', KEYS[1], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
        return {1, t[1], t[2]}
        """)

    /// Returns the jobs of workers whose heartbeat stopped to `pending` and ends their
    /// registrations, so nothing they do later moves a job. A job lost with a dying worker
    /// `ARGV[4]` times goes to the caller's own list instead, and is returned for `worker_lost`.
    ///
    /// Against clock steps: when Redis's clock is more than ARGV[9] ms off what the caller expects
    /// (ARGV[8], from its own monotonic clock; 0 = no expectation yet), nothing is reaped and
    /// `{'clock', now}` returned: after a forward step every heartbeat looks stale. Heartbeats
    /// from before a backward step lie in the future; they are moved to now, so a worker that
    /// died just before is still reaped a timeout later. Returns `{'ok', reaped, set-aside}`,
    /// or `{'fenced'}` when the caller itself was reaped.
    static let reap = RedisScript(name: "reap", source: registeredLua + recoverLua + """
        -- KEYS: workers, pending, own processing, paused, epochs
        -- ARGV: 1 processing key prefix, 2 heartbeat timeout ms, 3 lost key prefix, 4 max losses, 5 lost key ttl s,
        --       6 own worker id, 7 own epoch, 8 expected now ms, 9 clock tolerance ms
        if not registered(KEYS[5], ARGV[6], ARGV[7]) then return {'fenced'} end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local expected, tolerance = tonumber(ARGV[8]), tonumber(ARGV[9])
        if expected > 0 and math.abs(now - expected) > tolerance then return {'clock', now} end
        for _, worker in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now + tolerance), '+inf')) do
          redis.call('ZADD', KEYS[1], now, worker)
        end
        local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
        local reaped, setAside = 0, {}
        for _, worker in ipairs(dead) do
          if worker ~= ARGV[6] then
            local list = ARGV[1] .. worker
            while true do
              local element = redis.call('LPOP', list)
              if not element then break end
              recover(element, KEYS[2], KEYS[3], ARGV[3], tonumber(ARGV[4]), ARGV[5], setAside)
            end
            reaped = reaped + 1
            redis.call('ZREM', KEYS[1], worker)
            redis.call('HDEL', KEYS[5], worker)
            redis.call('HDEL', KEYS[4], worker)
          end
        end
        return {'ok', reaped, setAside}
        """)

    /// Moves retries whose time has come back to the right of `pending`, and those due more than
    /// ARGV[3] ms from now, which no worker schedules: Redis's clock stepped back. Returns how many moved.
    static let promote = RedisScript(name: "promote", source: """
        -- KEYS: delayed, pending   ARGV: max to move, member prefix length, longest delay ms
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now), 'LIMIT', 0, tonumber(ARGV[1]))
        local stepped = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. string.format('%.0f', now + tonumber(ARGV[3])), '+inf',
          'LIMIT', 0, tonumber(ARGV[1]))
        for _, member in ipairs(stepped) do due[#due + 1] = member end
        for _, member in ipairs(due) do
          redis.call('ZREM', KEYS[1], member)
          redis.call('RPUSH', KEYS[2], string.sub(member, tonumber(ARGV[2]) + 1))
        end
        return #due
        """)

    /// Depths in one call: `{pending, processing, delayed, dead, live workers, paused, succeeded, failed}`.
    static let stats = RedisScript(name: "stats", source: """
        -- KEYS: pending, delayed, dead, workers, paused, finished   ARGV: processing key prefix, heartbeat timeout ms
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local processing = 0
        for _, worker in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
          processing = processing + redis.call('LLEN', ARGV[1] .. worker)
        end
        local finished = redis.call('HMGET', KEYS[6], 'succeeded', 'failed')
        return {redis.call('LLEN', KEYS[1]), processing, redis.call('ZCARD', KEYS[2]), redis.call('LLEN', KEYS[3]),
                redis.call('ZCOUNT', KEYS[4], now - tonumber(ARGV[2]), '+inf'), redis.call('HLEN', KEYS[5]),
                tonumber(finished[1]) or 0, tonumber(finished[2]) or 0}
        """)

    /// The fingerprint of every element in a processing list: what a worker compares with the jobs it holds.
    static let processingFingerprints = RedisScript(name: "processingFingerprints", source: fingerprintLua + """
        -- KEYS: processing
        local fingerprints = {}
        for _, element in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do fingerprints[#fingerprints + 1] = fingerprint(element) end
        return fingerprints
        """)

    /// Gives back to the right of `pending` up to ARGV[2n+2] elements of each fingerprint ARGV[2n+1]
    /// still in the processing list, unless the worker's registration is over. Returns how many moved.
    static let giveBackByFingerprint = RedisScript(name: "giveBackByFingerprint", source: registeredLua + fingerprintLua + """
        -- KEYS: processing, pending, epochs   ARGV: worker, epoch, fingerprint, count, fingerprint, count, ...
        if not registered(KEYS[3], ARGV[1], ARGV[2]) then return 0 end
        local wanted = {}
        for i = 3, #ARGV, 2 do wanted[ARGV[i]] = tonumber(ARGV[i + 1]) end
        local moved = 0
        for _, element in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
          local print = fingerprint(element)
          if (wanted[print] or 0) > 0 and redis.call('LREM', KEYS[1], -1, element) > 0 then
            redis.call('RPUSH', KEYS[2], element)
            wanted[print] = wanted[print] - 1
            moved = moved + 1
          end
        end
        return moved
        """)

    /// A worker leaving cleanly: whatever it still holds goes back to the right of `pending`, and its
    /// registration ends. Nothing, when that registration was already over.
    static let retire = RedisScript(name: "retire", source: registeredLua + """
        -- KEYS: workers, own processing, pending, paused, epochs   ARGV: worker, epoch
        if not registered(KEYS[5], ARGV[1], ARGV[2]) then return -1 end
        local moved = 0
        while redis.call('LMOVE', KEYS[2], KEYS[3], 'LEFT', 'RIGHT') do moved = moved + 1 end
        redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('HDEL', KEYS[4], ARGV[1])
        redis.call('HDEL', KEYS[5], ARGV[1])
        return moved
        """)
}
