import IDCardContract

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

    /// Before a paid call. Refused for a worker whose registration is over. Reuses a succeeded
    /// result of the same image, or a recognition of the same bytes; waits while another call is
    /// paying for this id or these bytes; else claims both for this call. The fleet's rate slot
    /// comes after, from ``RateGate``. Returns `{verdict, payload, attempts}`: `done` (payload: the
    /// existing result), `conflict` (the id succeeded with another image), `cached` (payload: a
    /// recognition), `busy` (payload: ms until the other call's claim expires), `go` or `fenced`.
    static let gate = RedisScript(name: "gate", source: registeredLua + storedSuccessLua + claimLua + """
        -- KEYS: result, image, attempts, epochs, id claim, image claim
        -- ARGV: 1 job id, 2 check image ('1'), 3 worker, 4 epoch, 5 image digest, 6 this call ('worker|epoch|call'),
        --       7 claim ms (the wait for a rate slot and the call's deadline), 8 a remembered recognition
        --       this job could not read ('' for none): treated as absent, so this call replaces it
        if not registered(KEYS[4], ARGV[3], ARGV[4]) then return {'fenced', '', 0} end
        local attempts = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
        local success = storedSuccess(KEYS[1])
        if success then
          -- A success stored before results named their image is taken to be of this one.
          if type(success.imageDigest) == 'string' and success.imageDigest ~= ARGV[5] then return {'conflict', '', attempts} end
          return {'done', redis.call('GET', KEYS[1]), attempts}
        end
        if ARGV[2] == '1' then
          local cached = redis.call('GET', KEYS[2])
          if cached and cached ~= ARGV[8] then return {'cached', cached, attempts} end
        end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        for claim = 5, ARGV[2] == '1' and 6 or 5 do
          local left = claimHolds(KEYS[claim], KEYS[4], ARGV[6], now)
          if left then return {'busy', tostring(left), attempts} end
        end
        local value = ARGV[6] .. '|' .. now .. '|' .. ARGV[7]
        redis.call('SET', KEYS[5], value, 'PX', ARGV[7])
        if ARGV[2] == '1' then redis.call('SET', KEYS[6], value, 'PX', ARGV[7]) end
        return {'go', '', attempts}
        """)
}
