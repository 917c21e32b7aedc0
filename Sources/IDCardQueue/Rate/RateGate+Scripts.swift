import IDCardContract

/// The rate gate's Lua: each step on the fleet's schedule is one atomic script.
extension RateGate {
    /// Reserves the next slot: `{'slot', µs to wait, generation, rate, now µs, pushed µs}`, or
    /// `{'later', µs until a slot is within the horizon, ...}` without reserving one. The rate is
    /// ``RateAdaptation/effectiveRate(at:configured:)``, computed the same way here. Arguments:
    /// `configured` calls/s, the `spacingMargin`, `pushBackLevel` and `mostPushed` (µs: the push-back
    /// owed, the most pushed at once), `horizon` and `coolDown` (µs), `recovery` (share of the
    /// ceiling per s) and `ceilingRecovery` (share of itself per s).
    static let reserveScript = RedisScript(
        name: "rateReserve",
        keys: ["rate", "ratePushed", "rateState"],
        arguments: [
            "configured", "spacingMargin", "pushBackLevel", "mostPushed", "horizon", "coolDown", "recovery",
            "ceilingRecovery",
        ],
        body: """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            local configured = tonumber(A.configured)
            local state = redis.call('HMGET', K.rateState, 'limit', 'ceiling', 'since', 'generation', 'started')
            local rate = configured
            if state[1] and state[2] and state[3] then
              local elapsed = math.max(0, (now - tonumber(state[3])) / 1000000)
              local ceiling = math.min(configured, tonumber(state[2]) * (1 + tonumber(A.ceilingRecovery) * elapsed))
              rate = math.min(ceiling, tonumber(state[1]) + tonumber(state[2]) * tonumber(A.recovery) * elapsed)
            end
            local generation = tonumber(state[4] or '0')
            local horizon = tonumber(A.horizon)
            local stored = redis.call('GET', K.rate)
            local tat
            if not stored and state[5] then
              -- Lost (a failover, an eviction, a day unused): slots up to a horizon ahead may be out.
              tat = now + horizon
            elseif not stored then
              -- The first slot this queue ever hands out.
              tat = now
              redis.call('HSET', K.rateState, 'started', string.format('%.0f', now))
            else
              tat = tonumber(stored)
              -- Further ahead than any slot, cool-down and push-back reach: Redis's clock stepped back.
              if tat > now + horizon + tonumber(A.coolDown) + 2 * tonumber(A.mostPushed) then tat = now + horizon end
              tat = math.max(tat, now)
            end
            local pushed = tonumber(redis.call('GET', K.ratePushed) or '0')
            local owed = math.min(tonumber(A.pushBackLevel) - pushed, tonumber(A.mostPushed))
            if owed > 0 then
              tat = tat + owed
              pushed = pushed + owed
              -- Unused for a day, the total starts again from 0: a level held from before costs one capped push.
              redis.call('SET', K.ratePushed, string.format('%.0f', pushed), 'EX', 86400)
            end
            local verdict, wait = 'slot', tat - now
            if wait > horizon then
              verdict, wait = 'later', wait - horizon
            else
              tat = tat + tonumber(A.spacingMargin) * 1000000 / rate
              -- For the dashboard: the plan's rate, and slots handed out (their rate is the budget in use).
              redis.call('HSET', K.rateState, 'configured', A.configured)
              redis.call('HINCRBY', K.rateState, 'reserved', 1)
            end
            redis.call('SET', K.rate, string.format('%.0f', tat), 'EX', 86400)
            local function whole(value) return string.format('%.0f', value) end
            return {verdict, whole(wait), generation, tostring(rate), whole(now), whole(pushed)}
            """
    )

    /// A rate-limit answer for a call of `generation`: when it is the current one, lowers the
    /// rate to `rate` under a ceiling of `ceiling`, starts a new generation (slots handed out and not
    /// yet come are void) and holds every call off for the cool-down. Returns 1 then, 0 for a
    /// refusal of an older generation (the same burst, already answered).
    static let refusedScript = RedisScript(
        name: "rateRefused",
        keys: ["rate", "rateState"],
        arguments: ["generation", "rate", "ceiling", "coolDown"],
        body: """
            local generation = tonumber(redis.call('HGET', K.rateState, 'generation') or '0')
            if tonumber(A.generation) ~= generation then return 0 end
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            redis.call('HSET', K.rateState, 'limit', A.rate, 'ceiling', A.ceiling, 'since', string.format('%.0f', now),
              'generation', generation + 1, 'coolDownUntil', string.format('%.0f', now + tonumber(A.coolDown)))
            redis.call('EXPIRE', K.rateState, 7 * 86400)
            local tat = math.max(tonumber(redis.call('GET', K.rate) or '0'), now + tonumber(A.coolDown))
            redis.call('SET', K.rate, string.format('%.0f', tat), 'EX', 86400)
            return 1
            """
    )

    /// After a step of Redis's clock: a new generation, the schedule restarted a horizon from now,
    /// the adaptation's recovery counted from now.
    static let restartScript = RedisScript(
        name: "rateRestart",
        keys: ["rate", "rateState"],
        arguments: ["horizon", "furthest"],
        body: """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            redis.call('HINCRBY', K.rateState, 'generation', 1)
            if redis.call('HEXISTS', K.rateState, 'since') == 1 then
              redis.call('HSET', K.rateState, 'since', string.format('%.0f', now))
            end
            -- Not before slots already handed out by a schedule that is still plausible (a cool-down
            -- running, another worker's restart just now).
            local tat = now + tonumber(A.horizon)
            local stored = tonumber(redis.call('GET', K.rate) or '0')
            if stored > tat and stored <= now + tonumber(A.furthest) then tat = stored end
            redis.call('SET', K.rate, string.format('%.0f', tat), 'EX', 86400)
            return 1
            """
    )
}
