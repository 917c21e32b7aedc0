/// The Lua scripts behind the queue's atomic steps. Clock: Redis `TIME`, so hosts' clocks never matter.
enum QueueScripts {
    /// Takes up to ARGV[1] jobs in one step, as that many `LMOVE`s would, stopping once ARGV[2] bytes
    /// are taken (large images: one reply never holds more than a few of them). Returns the elements, oldest first.
    static let take = RedisScript(name: "take", source: """
        -- KEYS: pending, processing   ARGV: most jobs to take, most bytes to take
        local taken, bytes = {}, 0
        for _ = 1, tonumber(ARGV[1]) do
          local element = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
          if not element then break end
          taken[#taken + 1] = element
          bytes = bytes + #element
          if bytes >= tonumber(ARGV[2]) then break end
        end
        return taken
        """)

    /// Before a paid call: push the schedule back as far as this worker's late calls need, whatever
    /// the verdict (see ``JobQueue/gate(jobID:imageKey:rateInterval:pushedTo:)``); then reuse a
    /// succeeded result or a recognition of the same bytes, else reserve the next rate slot (GCRA). Returns
    /// `{verdict, payload, attempts, pushed}` where verdict is `done` (payload: the existing result),
    /// `cached` (payload: a recognition) or `go` (payload: µs to wait; pushed: the schedule's push-back so far).
    static let gate = RedisScript(name: "gate", source: """
        -- KEYS: result, image, rate, attempts, rate pushed
        -- ARGV: job id, interval µs (0 = no limit), check image ('1'), push-back level µs, most µs pushed at once
        -- Late calls' push-back first: it is owed whatever this job turns out to be.
        local interval = tonumber(ARGV[2])
        local now, tat, pushed = 0, 0, 0
        if interval > 0 then
          local t = redis.call('TIME')
          now = tonumber(t[1]) * 1000000 + tonumber(t[2])
          tat = math.max(tonumber(redis.call('GET', KEYS[3]) or '0'), now)
          pushed = tonumber(redis.call('GET', KEYS[5]) or '0')
          local owed = math.min(tonumber(ARGV[4]) - pushed, tonumber(ARGV[5]))
          if owed > 0 then
            tat = tat + owed
            pushed = pushed + owed
            -- Unused for a day, the total starts again from 0: a level held from before costs one capped push.
            redis.call('SET', KEYS[5], string.format('%.0f', pushed), 'EX', 86400)
            redis.call('SET', KEYS[3], string.format('%.0f', tat), 'PX', math.floor((tat - now) / 1000) + 60000)
          end
        end
        local attempts = tonumber(redis.call('HGET', KEYS[4], ARGV[1]) or '0')
        local existing = redis.call('GET', KEYS[1])
        if existing then
          local ok, decoded = pcall(cjson.decode, existing)
          if ok and type(decoded) == 'table' and decoded.status == 'succeeded' then return {'done', existing, attempts, 0} end
        end
        if ARGV[3] == '1' then
          local cached = redis.call('GET', KEYS[2])
          if cached then return {'cached', cached, attempts, 0} end
        end
        if interval <= 0 then return {'go', '0', attempts, 0} end
        local nextTat = tat + interval
        redis.call('SET', KEYS[3], string.format('%.0f', nextTat), 'PX', math.floor((nextTat - now) / 1000) + 60000)
        return {'go', string.format('%.0f', tat - now), attempts, string.format('%.0f', pushed)}
        """)

    /// A fleet-wide cool-down after the API said "too many calls": no rate slot before now + ARGV[1] µs.
    static let coolDown = RedisScript(name: "coolDown", source: """
        -- KEYS: rate   ARGV: cool-down µs
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
        local until_ = now + tonumber(ARGV[1])
        if tat < until_ then
          redis.call('SET', KEYS[1], string.format('%.0f', until_), 'PX', math.floor(tonumber(ARGV[1]) / 1000) + 60000)
        end
        return 1
        """)

    /// Ends a job in one step: release it, store the result, dead-letter, cache the recognition, reply.
    /// A failure never replaces a stored success of the same id (a later bad job reusing a good id).
    /// Returns `{1 when the job was still ours (0 when the reaper had already given it back to `pending`),
    /// the next job when one was asked for and pending had one}`.
    static let finish = RedisScript(name: "finish", source: """
        -- KEYS: processing, result, attempts, dead, image, replyTo, finished, pending
        -- ARGV: element, result ('' = keep the stored one), ttl s, job id ('' = none), dead letter ('' = none),
        --       recognition to cache ('' = none), reply ('1' = push the result onto replyTo),
        --       keep a success ('1' = the result is a failure that must not replace a stored success),
        --       take the next job ('1'), how the dead letter embeds the element ('job': as is,
        --       'raw': as a JSON string, '': not), dead letter tail
        local removed = redis.call('LREM', KEYS[1], -1, ARGV[1])
        local result = ARGV[2]
        local store = result ~= ''
        if store and ARGV[8] == '1' then
          local existing = redis.call('GET', KEYS[2])
          if existing then
            local ok, decoded = pcall(cjson.decode, existing)
            if ok and type(decoded) == 'table' and decoded.status == 'succeeded' then store = false end
          end
        end
        if store then redis.call('SET', KEYS[2], result, 'EX', ARGV[3]) end
        if ARGV[4] ~= '' then redis.call('HDEL', KEYS[3], ARGV[4]) end
        -- Once per taken job: a finish repeated after its reply was lost, or a job given back
        -- meanwhile (its next holder ends it), adds no second dead letter, count or reply.
        if removed > 0 and ARGV[5] ~= '' then
          local embedded = ''
          if ARGV[10] == 'job' then embedded = ARGV[1] elseif ARGV[10] == 'raw' then embedded = cjson.encode(ARGV[1]) end
          redis.call('LPUSH', KEYS[4], ARGV[5] .. embedded .. ARGV[11])
        end
        if removed > 0 then redis.call('HINCRBY', KEYS[7], ARGV[5] ~= '' and 'failed' or 'succeeded', 1) end
        if ARGV[6] ~= '' then redis.call('SET', KEYS[5], ARGV[6], 'EX', ARGV[3]) end
        if removed > 0 and ARGV[7] == '1' then
          if result == '' then result = redis.call('GET', KEYS[2]) end
          if result then
            redis.call('LPUSH', KEYS[6], result)
            redis.call('EXPIRE', KEYS[6], ARGV[3])
          end
        end
        if ARGV[9] == '1' then
          local next = redis.call('LMOVE', KEYS[8], KEYS[1], 'RIGHT', 'LEFT')
          if next then return {removed, next} end
        end
        return {removed}
        """)

    /// Schedules another attempt: out of `processing`, into `delayed`, the attempt counted.
    static let retry = RedisScript(name: "retry", source: """
        -- KEYS: processing, delayed, attempts   ARGV: element, delay ms, unique member prefix, job id, attempts made
        local removed = redis.call('LREM', KEYS[1], -1, ARGV[1])
        -- Not ours any more (a repeat after a lost reply, or given back meanwhile): scheduling it
        -- again would run the job twice.
        if removed == 0 then return 0 end
        local t = redis.call('TIME')
        local due = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2])
        redis.call('ZADD', KEYS[2], string.format('%.0f', due), ARGV[3] .. ARGV[1])
        redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
        return removed
        """)

    /// Gives a job back untouched (shutdown, account error): to the right of `pending`, so it is taken next.
    static let release = RedisScript(name: "release", source: """
        -- KEYS: processing, pending   ARGV: element
        local removed = redis.call('LREM', KEYS[1], -1, ARGV[1])
        if removed > 0 then redis.call('RPUSH', KEYS[2], ARGV[1]) end
        return removed
        """)

    /// Records a worker's heartbeat and whether it is paused. Returns 1 when the worker was not
    /// registered (new, or reaped).
    static let heartbeat = RedisScript(name: "heartbeat", source: """
        -- KEYS: workers, paused   ARGV: worker, why it is paused ('' = ready)
        local t = redis.call('TIME')
        if ARGV[2] == '' then redis.call('HDEL', KEYS[2], ARGV[1]) else redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
        return redis.call('ZADD', KEYS[1], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
        """)

    /// Returns the jobs of workers whose heartbeat stopped to `pending`. A job that was in the hands of
    /// a dying worker `ARGV[4]` times goes to the caller's own processing list instead, and is returned,
    /// so the caller dead-letters it as `worker_lost`. Returns `{workers reaped, set-aside elements...}`.
    static let reap = RedisScript(name: "reap", source: """
        -- KEYS: workers, pending, own processing, paused
        -- ARGV: processing key prefix, heartbeat timeout ms, lost key prefix, max losses, lost key ttl s, own worker id
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
        local out = {0}
        for _, worker in ipairs(dead) do
          if worker ~= ARGV[6] then
            local list = ARGV[1] .. worker
            while true do
              local element = redis.call('LPOP', list)
              if not element then break end
              local lostKey = ARGV[3] .. redis.sha1hex(element)
              local losses = redis.call('INCR', lostKey)
              redis.call('EXPIRE', lostKey, ARGV[5])
              if losses >= tonumber(ARGV[4]) then
                redis.call('LPUSH', KEYS[3], element)
                out[#out + 1] = element
              else
                redis.call('RPUSH', KEYS[2], element)
              end
            end
            out[1] = out[1] + 1
            redis.call('ZREM', KEYS[1], worker)
            redis.call('HDEL', KEYS[4], worker)
          end
        end
        return out
        """)

    /// Moves retries whose time has come back to the right of `pending`. Returns how many moved.
    static let promote = RedisScript(name: "promote", source: """
        -- KEYS: delayed, pending   ARGV: max to move, member prefix length
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now), 'LIMIT', 0, tonumber(ARGV[1]))
        for _, member in ipairs(due) do
          redis.call('ZREM', KEYS[1], member)
          redis.call('RPUSH', KEYS[2], string.sub(member, tonumber(ARGV[2]) + 1))
        end
        return #due
        """)

    /// Depths in one call: `{pending, processing, delayed, dead, live workers}`.
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

    /// Puts one dead letter back on `pending` and forgets the job's counters.
    static let requeue = RedisScript(name: "requeue", source: """
        -- KEYS: dead, pending, attempts   ARGV: dead letter, job element, job id ('' = none)
        local removed = redis.call('LREM', KEYS[1], 1, ARGV[1])
        if removed > 0 then
          redis.call('LPUSH', KEYS[2], ARGV[2])
          if ARGV[3] ~= '' then redis.call('HDEL', KEYS[3], ARGV[3]) end
        end
        return removed
        """)

    /// Drops the dead list, returning how many letters it held.
    static let purge = RedisScript(name: "purge", source: """
        -- KEYS: dead
        local count = redis.call('LLEN', KEYS[1])
        redis.call('DEL', KEYS[1])
        return count
        """)

    /// The SHA-1 of every element in a processing list: what a worker compares with the jobs it holds.
    static let processingDigests = RedisScript(name: "processingDigests", source: """
        -- KEYS: processing
        local digests = {}
        for _, element in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do digests[#digests + 1] = redis.sha1hex(element) end
        return digests
        """)

    /// Gives back to the right of `pending` up to ARGV[2n] elements of each SHA-1 ARGV[2n-1] still in
    /// the processing list. Returns how many moved.
    static let giveBackByDigest = RedisScript(name: "giveBackByDigest", source: """
        -- KEYS: processing, pending   ARGV: digest, count, digest, count, ...
        local wanted = {}
        for i = 1, #ARGV, 2 do wanted[ARGV[i]] = tonumber(ARGV[i + 1]) end
        local moved = 0
        for _, element in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
          local digest = redis.sha1hex(element)
          if (wanted[digest] or 0) > 0 and redis.call('LREM', KEYS[1], -1, element) > 0 then
            redis.call('RPUSH', KEYS[2], element)
            wanted[digest] = wanted[digest] - 1
            moved = moved + 1
          end
        end
        return moved
        """)

    /// A worker leaving cleanly: whatever it still holds goes back to the right of `pending`.
    static let retire = RedisScript(name: "retire", source: """
        -- KEYS: workers, own processing, pending, paused   ARGV: worker
        local moved = 0
        while redis.call('LMOVE', KEYS[2], KEYS[3], 'LEFT', 'RIGHT') do moved = moved + 1 end
        redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('HDEL', KEYS[4], ARGV[1])
        return moved
        """)
}
