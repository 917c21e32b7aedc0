/// A job's first steps: the take, and the gate before a paid call.
extension QueueScripts {
    /// Takes up to ARGV[1] jobs in one step, as that many `LMOVE`s would, stopping once ARGV[2] bytes
    /// are taken (large images: one reply never holds more than a few of them); elements too large
    /// for any job that can succeed are refused on the way (`takeOne`). Refused when the worker's
    /// registration is over. Returns `{'ok', elements oldest first, refused}` or `{'fenced'}`.
    static let take = RedisScript(name: "take", source: registeredLua + takeOneLua + """
        -- KEYS: pending, processing, epochs, oversized, dead, finished
        -- ARGV: most jobs, most bytes, worker, epoch, most bytes of one element, failedAt
        if not registered(KEYS[3], ARGV[3], ARGV[4]) then return {'fenced'} end
        local taken, refused, bytes = {}, {}, 0
        for _ = 1, tonumber(ARGV[1]) do
          local element = takeOne(KEYS[1], KEYS[2], KEYS[4], KEYS[5], KEYS[6], tonumber(ARGV[5]), ARGV[6], ARGV[3], refused)
          if not element then break end
          taken[#taken + 1] = element
          bytes = bytes + #element
          if bytes >= tonumber(ARGV[2]) then break end
        end
        return {'ok', taken, refused}
        """)

    /// Before a paid call. Refused for a worker whose registration is over. Pushes the schedule back
    /// as far as this worker's late calls need, whatever the verdict (see
    /// ``JobQueue/gate(_:)``); then reuses a succeeded result of the same image, or a recognition of
    /// the same bytes; waits while another call is paying for this id or these bytes; else claims
    /// both for the call and reserves the next rate slot (GCRA). Returns
    /// `{verdict, payload, attempts, pushed}`: `done` (payload: the existing result), `conflict`
    /// (the id succeeded with another image), `cached` (payload: a recognition), `busy` (payload:
    /// ms until the other call's claim expires), `go` (payload: µs to wait; pushed: the schedule's
    /// push-back so far) or `fenced`.
    static let gate = RedisScript(name: "gate", source: registeredLua + """
        -- KEYS: result, image, rate, attempts, rate pushed, epochs, id claim, image claim
        -- ARGV: 1 job id, 2 interval µs (0 = no limit), 3 check image ('1'), 4 push-back level µs,
        --       5 most µs pushed at once, 6 worker, 7 epoch, 8 image digest, 9 claim ('worker|epoch|call'),
        --       10 claim ms beyond the slot (the call's deadline)
        if not registered(KEYS[6], ARGV[6], ARGV[7]) then return {'fenced', '', 0, 0} end
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
          if ok and type(decoded) == 'table' and decoded.status == 'succeeded' then
            -- A success stored before results named their image is taken to be of this one.
            if type(decoded.imageDigest) == 'string' and decoded.imageDigest ~= ARGV[8] then return {'conflict', '', attempts, 0} end
            return {'done', existing, attempts, 0}
          end
        end
        if ARGV[3] == '1' then
          local cached = redis.call('GET', KEYS[2])
          if cached then return {'cached', cached, attempts, 0} end
        end
        -- A claim is 'worker|epoch|call': it dies with its holder's registration (reaped, or gone).
        for claim = 7, ARGV[3] == '1' and 8 or 7 do
          local holder = redis.call('GET', KEYS[claim])
          if holder and holder ~= ARGV[9] then
            local worker, epoch = string.match(holder, '^(.*)|(%d+)|[^|]*$')
            if worker and redis.call('HGET', KEYS[6], worker) == epoch then
              return {'busy', tostring(redis.call('PTTL', KEYS[claim])), attempts, 0}
            end
          end
        end
        local wait = 0
        if interval > 0 then
          local nextTat = tat + interval
          redis.call('SET', KEYS[3], string.format('%.0f', nextTat), 'PX', math.floor((nextTat - now) / 1000) + 60000)
          wait = tat - now
        end
        local claimFor = math.floor(wait / 1000) + tonumber(ARGV[10])
        redis.call('SET', KEYS[7], ARGV[9], 'PX', claimFor)
        if ARGV[3] == '1' then redis.call('SET', KEYS[8], ARGV[9], 'PX', claimFor) end
        return {'go', string.format('%.0f', wait), attempts, string.format('%.0f', pushed)}
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
}
