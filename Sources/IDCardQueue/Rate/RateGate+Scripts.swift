import IDCardContract

/// The rate gate's Lua: each step on the fleet's schedule is one atomic script.
extension RateGate {
    /// Reserves the next slot: `{'slot', µs to wait, generation, rate, now µs, pushed µs}`, or
    /// `{'later', µs until a slot is within the horizon, ...}` without reserving one. The rate is
    /// ``RateAdaptation/effectiveRate(at:configured:)``, computed the same way here.
    static let reserveScript = RedisScript(name: "rateReserve", source: """
        -- KEYS: rate (next slot, µs), rate pushed (push-back total, µs), rate state (adaptation, generation)
        -- ARGV: 1 configured calls/s, 2 spacing margin, 3 push-back level µs, 4 most µs pushed at once, 5 horizon µs,
        --       6 cool-down µs, 7 recovery (share of the ceiling per s), 8 ceiling recovery (share of itself per s)
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local configured = tonumber(ARGV[1])
        local state = redis.call('HMGET', KEYS[3], 'limit', 'ceiling', 'since', 'generation', 'started')
        local rate = configured
        if state[1] and state[2] and state[3] then
          local elapsed = math.max(0, (now - tonumber(state[3])) / 1000000)
          local ceiling = math.min(configured, tonumber(state[2]) * (1 + tonumber(ARGV[8]) * elapsed))
          rate = math.min(ceiling, tonumber(state[1]) + tonumber(state[2]) * tonumber(ARGV[7]) * elapsed)
        end
        local generation = tonumber(state[4] or '0')
        local horizon = tonumber(ARGV[5])
        local stored = redis.call('GET', KEYS[1])
        local tat
        if not stored and state[5] then
          -- Lost (a failover, an eviction, a day unused): slots up to a horizon ahead may be out.
          tat = now + horizon
        elseif not stored then
          -- The first slot this queue ever hands out.
          tat = now
          redis.call('HSET', KEYS[3], 'started', string.format('%.0f', now))
        else
          tat = tonumber(stored)
          -- Further ahead than any slot, cool-down and push-back reach: Redis's clock stepped back.
          if tat > now + horizon + tonumber(ARGV[6]) + 2 * tonumber(ARGV[4]) then tat = now + horizon end
          tat = math.max(tat, now)
        end
        local pushed = tonumber(redis.call('GET', KEYS[2]) or '0')
        local owed = math.min(tonumber(ARGV[3]) - pushed, tonumber(ARGV[4]))
        if owed > 0 then
          tat = tat + owed
          pushed = pushed + owed
          -- Unused for a day, the total starts again from 0: a level held from before costs one capped push.
          redis.call('SET', KEYS[2], string.format('%.0f', pushed), 'EX', 86400)
        end
        local verdict, wait = 'slot', tat - now
        if wait > horizon then
          verdict, wait = 'later', wait - horizon
        else
          tat = tat + tonumber(ARGV[2]) * 1000000 / rate
        end
        redis.call('SET', KEYS[1], string.format('%.0f', tat), 'EX', 86400)
        return {verdict, string.format('%.0f', wait), generation, tostring(rate), string.format('%.0f', now), string.format('%.0f', pushed)}
        """)

    /// A rate-limit answer for a call of generation ARGV[1]: when it is the current one, lowers the
    /// rate to ARGV[2] under a ceiling of ARGV[3], starts a new generation (slots handed out and not
    /// yet come are void) and holds every call off for the cool-down. Returns 1 then, 0 for a
    /// refusal of an older generation (the same burst, already answered).
    static let refusedScript = RedisScript(name: "rateRefused", source: """
        -- KEYS: rate, rate state   ARGV: generation of the refused call, new rate, new ceiling, cool-down µs
        local generation = tonumber(redis.call('HGET', KEYS[2], 'generation') or '0')
        if tonumber(ARGV[1]) ~= generation then return 0 end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        redis.call('HSET', KEYS[2], 'limit', ARGV[2], 'ceiling', ARGV[3], 'since', string.format('%.0f', now), 'generation', generation + 1)
        redis.call('EXPIRE', KEYS[2], 7 * 86400)
        local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now + tonumber(ARGV[4]))
        redis.call('SET', KEYS[1], string.format('%.0f', tat), 'EX', 86400)
        return 1
        """)

    /// After a step of Redis's clock: a new generation, the schedule restarted a horizon from now,
    /// the adaptation's recovery counted from now.
    static let restartScript = RedisScript(name: "rateRestart", source: """
        -- KEYS: rate, rate state   ARGV: horizon µs, the furthest a plausible schedule reaches µs
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        redis.call('HINCRBY', KEYS[2], 'generation', 1)
        if redis.call('HEXISTS', KEYS[2], 'since') == 1 then redis.call('HSET', KEYS[2], 'since', string.format('%.0f', now)) end
        -- Not before slots already handed out by a schedule that is still plausible (a cool-down
        -- running, another worker's restart just now).
        local tat = now + tonumber(ARGV[1])
        local stored = tonumber(redis.call('GET', KEYS[1]) or '0')
        if stored > tat and stored <= now + tonumber(ARGV[2]) then tat = stored end
        redis.call('SET', KEYS[1], string.format('%.0f', tat), 'EX', 86400)
        return 1
        """)
}
