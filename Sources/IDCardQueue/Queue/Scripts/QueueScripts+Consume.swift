import IDCardContract

/// A job's first steps: the take, and the gate before a paid call.
extension QueueScripts {
    /// Takes up to `mostJobs` jobs in one step, as that many `LMOVE`s would, stopping once `mostBytes`
    /// are taken (large images: one reply never holds more than a few of them); elements too large
    /// for any job that can succeed are refused on the way (`takeOne`). Refused when the worker's
    /// registration is over. Returns `{'ok', elements oldest first, refused}` or `{'fenced'}`.
    static let take = RedisScript(
        name: "take",
        keys: ["pending", "processing", "epochs", "oversized", "dead", "finished", "pause"],
        arguments: ["mostJobs", "mostBytes", "worker", "epoch", "mostElementBytes", "failedAt"],
        body: registeredLua + takeOneLua + """
            if not registered(K.epochs, A.worker, A.epoch) then return {'fenced'} end
            local taken, refused, bytes = {}, {}, 0
            for _ = 1, tonumber(A.mostJobs) do
              local element = takeOne(K.pending, K.processing, K.oversized, K.dead, K.finished, K.pause,
                tonumber(A.mostElementBytes), A.failedAt, A.worker, refused)
              if not element then break end
              taken[#taken + 1] = element
              bytes = bytes + #element
              if bytes >= tonumber(A.mostBytes) then break end
            end
            return {'ok', taken, refused}
            """
    )

    /// Before a paid call. Refused for a worker whose registration is over. Reuses a succeeded
    /// result of the same image, or a recognition of the same bytes; waits while another call is
    /// paying for this id or these bytes; else claims both for this call. The fleet's rate slot
    /// comes after, from ``RateGate``. Returns `{verdict, payload, attempts}`: `done` (payload: the
    /// existing result), `conflict` (the id succeeded with another image), `cached` (payload: a
    /// recognition), `busy` (payload: ms until the other call's claim expires), `go` or `fenced`.
    ///
    /// Keys `image` and `imageClaim` are absent when the bytes are not deduplicated. `call` is
    /// `worker|epoch|token`; `claimMs` covers the wait for a rate slot and the call's deadline;
    /// `unreadable` is a remembered recognition this job could not read ('' for none): treated as
    /// absent, so this call replaces it.
    static let gate = RedisScript(
        name: "gate",
        keys: ["result", "image?", "attempts", "epochs", "idClaim", "imageClaim?"],
        arguments: ["id", "worker", "epoch", "imageDigest", "call", "claimMs", "unreadable"],
        body: registeredLua + storedSuccessLua + claimLua + """
            if not registered(K.epochs, A.worker, A.epoch) then return {'fenced', '', 0} end
            local attempts = tonumber(redis.call('HGET', K.attempts, A.id) or '0')
            local success = storedSuccess(K.result)
            if success then
              -- A success stored before results named their image is taken to be of this one.
              if type(success.imageDigest) == 'string' and success.imageDigest ~= A.imageDigest then
                return {'conflict', '', attempts}
              end
              return {'done', redis.call('GET', K.result), attempts}
            end
            if K.image then
              local cached = redis.call('GET', K.image)
              if cached and cached ~= A.unreadable then return {'cached', cached, attempts} end
            end
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            for _, claim in ipairs({K.idClaim, K.imageClaim}) do
              local left = claimHolds(claim, K.epochs, A.call, now)
              if left then return {'busy', tostring(left), attempts} end
            end
            local value = A.call .. '|' .. now .. '|' .. A.claimMs
            redis.call('SET', K.idClaim, value, 'PX', A.claimMs)
            if K.imageClaim then redis.call('SET', K.imageClaim, value, 'PX', A.claimMs) end
            return {'go', '', attempts}
            """
    )
}
