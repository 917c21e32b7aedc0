import IDCardContract

/// The fleet's housekeeping: registration and heartbeats, recovery of dead workers' jobs, due
/// retries, depths.
extension QueueScripts {
    /// Registers a worker under a new epoch, fencing off any earlier registration of the same id.
    /// Whatever its processing list still holds belonged to a process that is gone (a container
    /// restarted under the same `IDOCR_WORKER_ID`, or this process before it was reaped): it is
    /// recovered as the reaper would, losses counted. Returns `{epoch, recovered, set-aside, seconds, µs}`.
    static let register = RedisScript(
        name: "register",
        keys: ["workers", "epochs", "epochCounter", "processing", "pending", "paused", "lost", "lostAt"],
        arguments: ["worker", "maxLosses", "lostTTL"],
        body: recoverLua + """
            -- Above the last one handed out, and above Redis's clock in µs: a new master that never got
            -- the old one's last epoch does not hand it out again.
            local t = redis.call('TIME')
            local last = tonumber(redis.call('GET', K.epochCounter) or '0')
            local epoch = math.max(last + 1, tonumber(t[1]) * 1000000 + tonumber(t[2]))
            epoch = string.format('%.0f', epoch)
            redis.call('SET', K.epochCounter, epoch)
            redis.call('HSET', K.epochs, A.worker, epoch)
            redis.call('HDEL', K.paused, A.worker)
            local leftovers, setAside = redis.call('LRANGE', K.processing, 0, -1), {}
            redis.call('DEL', K.processing)
            local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            forgetOldLosses(K.lost, K.lostAt, nowMs, A.lostTTL)
            -- Newest first, as the reaper pops them: the oldest ends up rightmost in pending, taken first.
            for _, element in ipairs(leftovers) do
              recover(element, K.pending, K.processing, K.lost, K.lostAt, nowMs, tonumber(A.maxLosses), setAside)
            end
            redis.call('ZADD', K.workers, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), A.worker)
            return {epoch, #leftovers - #setAside, setAside, t[1], t[2]}
            """
    )

    /// Records a worker's heartbeat, whether it is paused and what it says of itself (`info`, ''
    /// for nothing), unless its registration is over. Returns `{1 (beating) or 0 (fenced: reaped),
    /// seconds, µs}` with Redis's clock.
    static let heartbeat = RedisScript(
        name: "heartbeat",
        keys: ["workers", "paused", "epochs", "workerInfo"],
        arguments: ["worker", "pausedBecause", "epoch", "info"],
        body: registeredLua + """
            local t = redis.call('TIME')
            if not registered(K.epochs, A.worker, A.epoch) then return {0, t[1], t[2]} end
            if A.pausedBecause == '' then
              redis.call('HDEL', K.paused, A.worker)
            else
              redis.call('HSET', K.paused, A.worker, A.pausedBecause)
            end
            if A.info ~= '' then redis.call('HSET', K.workerInfo, A.worker, A.info) end
            redis.call('ZADD', K.workers, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), A.worker)
            return {1, t[1], t[2]}
            """
    )

    /// The first half of a reaper's pass: the workers whose last heartbeat is older than
    /// `heartbeatTimeoutMs`, the caller excepted, for ``reap`` to recover, with their processing
    /// lists declared. Two scripts, because a script names every key it touches before it runs
    /// (Redis Cluster routes and checks by them), and which lists are due is known only here.
    ///
    /// Against clock steps: when Redis's clock is more than `toleranceMs` off what the caller expects
    /// (`expectedNowMs`, from its own monotonic clock; 0 = no expectation yet), nothing is due and
    /// `{'clock', now}` returned: after a forward step every heartbeat looks stale. Heartbeats
    /// from before a backward step lie in the future; they are moved to now, so a worker that
    /// died just before is still reaped a timeout later. Returns `{'ok', {worker, ...}}`, or
    /// `{'fenced'}` when the caller itself was reaped.
    static let staleWorkers = RedisScript(
        name: "staleWorkers",
        keys: ["workers", "epochs"],
        arguments: ["heartbeatTimeoutMs", "worker", "epoch", "expectedNowMs", "toleranceMs"],
        body: registeredLua + clockLua + """
            if not registered(K.epochs, A.worker, A.epoch) then return {'fenced'} end
            local now, stepped = checkedNow(A.expectedNowMs, A.toleranceMs)
            if stepped then return {'clock', now} end
            local tolerance = tonumber(A.toleranceMs)
            for _, worker in ipairs(redis.call('ZRANGEBYSCORE', K.workers, '(' .. (now + tolerance), '+inf')) do
              redis.call('ZADD', K.workers, now, worker)
            end
            local due, cutoff = {}, now - tonumber(A.heartbeatTimeoutMs)
            for _, worker in ipairs(redis.call('ZRANGEBYSCORE', K.workers, '-inf', cutoff)) do
              if worker ~= A.worker then due[#due + 1] = worker end
            end
            return {'ok', due}
            """
    )

    /// Returns the jobs of the workers ``staleWorkers`` named (`A.rest`, their processing lists
    /// `K.rest` in the same order) to `pending` and ends their registrations; a job lost
    /// `maxLosses` times goes to the caller's own list instead, and is returned for `worker_lost`.
    /// Each is looked at again first: one that has beaten its heart since, or registered anew, is
    /// left alone, and so is everything when the caller was reaped or Redis's clock stepped in
    /// between. Returns `{'ok', reaped, set-aside}`, `{'clock', now}` or `{'fenced'}`.
    static let reap = RedisScript(
        name: "reap",
        keys: ["workers", "pending", "processing", "paused", "epochs", "lost", "lostAt", "workerInfo"],
        restKeys: true,
        arguments: [
            "heartbeatTimeoutMs", "maxLosses", "lostTTL", "worker", "epoch", "expectedNowMs", "toleranceMs",
        ],
        rest: true,
        body: registeredLua + clockLua + recoverLua + """
            if not registered(K.epochs, A.worker, A.epoch) then return {'fenced'} end
            local now, stepped = checkedNow(A.expectedNowMs, A.toleranceMs)
            if stepped then return {'clock', now} end
            forgetOldLosses(K.lost, K.lostAt, now, A.lostTTL)
            local cutoff = now - tonumber(A.heartbeatTimeoutMs)
            local reaped, setAside = 0, {}
            for index, worker in ipairs(A.rest) do
              local beat = tonumber(redis.call('ZSCORE', K.workers, worker))
              if worker ~= A.worker and beat and beat <= cutoff then
                while true do
                  local element = redis.call('LPOP', K.rest[index])
                  if not element then break end
                  recover(element, K.pending, K.processing, K.lost, K.lostAt, now, tonumber(A.maxLosses), setAside)
                end
                reaped = reaped + 1
                redis.call('ZREM', K.workers, worker)
                redis.call('HDEL', K.epochs, worker)
                redis.call('HDEL', K.paused, worker)
                redis.call('HDEL', K.workerInfo, worker)
              end
            end
            return {'ok', reaped, setAside}
            """
    )

    /// Moves retries whose time has come back to the right of `pending`, and those due more than
    /// `longestDelayMs` from now, which no worker schedules: Redis's clock stepped back. Returns how many moved.
    static let promote = RedisScript(
        name: "promote",
        keys: ["delayed", "pending"],
        arguments: ["mostMoved", "memberPrefixLength", "longestDelayMs"],
        body: """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local most = tonumber(A.mostMoved)
            local due = redis.call('ZRANGEBYSCORE', K.delayed, '-inf', string.format('%.0f', now), 'LIMIT', 0, most)
            local beyond = '(' .. string.format('%.0f', now + tonumber(A.longestDelayMs))
            local stepped = redis.call('ZRANGEBYSCORE', K.delayed, beyond, '+inf', 'LIMIT', 0, most)
            for _, member in ipairs(stepped) do due[#due + 1] = member end
            for _, member in ipairs(due) do
              redis.call('ZREM', K.delayed, member)
              redis.call('RPUSH', K.pending, string.sub(member, tonumber(A.memberPrefixLength) + 1))
            end
            return #due
            """
    )

    /// Depths in one call: `{pending, processing, delayed, dead, live workers, paused, succeeded,
    /// failed, retried, the oldest pending job's wait (ms, -1: not asked or unknown), the queue's pause ('' when
    /// running)}`; `processing` over the processing lists given (`K.rest`: those of the registered
    /// workers, read just before).
    static let stats = RedisScript(
        name: "stats",
        keys: ["pending", "delayed", "dead", "workers", "paused", "finished", "pause"],
        restKeys: true,
        arguments: ["heartbeatTimeoutMs", "oldestWait"],
        body: """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local processing = 0
            for _, list in ipairs(K.rest) do processing = processing + redis.call('LLEN', list) end
            local finished = redis.call('HMGET', K.finished, 'succeeded', 'failed', 'retried')
            local live = redis.call('ZCOUNT', K.workers, now - tonumber(A.heartbeatTimeoutMs), '+inf')
            -- The oldest job's wait, when asked (`oldestWait` '1': the dashboard; reading the element
            -- copies it, image and all): its enqueuedAt, looked for in its first and last 4 KiB
            -- only; -1 when not asked, nothing is pending or it carries none.
            local waited = -1
            local oldest = A.oldestWait == '1' and redis.call('LINDEX', K.pending, -1)
            if oldest then
              local pattern = '"enqueuedAt"%s*:%s*(%d+)'
              local at = string.match(string.sub(oldest, 1, 4096), pattern)
                or string.match(string.sub(oldest, -4096), pattern)
              if at then waited = math.max(0, now - tonumber(at)) end
            end
            return {redis.call('LLEN', K.pending), processing, redis.call('ZCARD', K.delayed),
                    redis.call('LLEN', K.dead), live, redis.call('HLEN', K.paused),
                    tonumber(finished[1]) or 0, tonumber(finished[2]) or 0, tonumber(finished[3]) or 0,
                    waited, redis.call('GET', K.pause) or ''}
            """
    )

    /// The fingerprint of every element in a processing list: what a worker compares with the jobs it holds.
    static let processingFingerprints = RedisScript(
        name: "processingFingerprints",
        keys: ["processing"],
        arguments: [],
        body: fingerprintLua + """
            local fingerprints = {}
            for _, element in ipairs(redis.call('LRANGE', K.processing, 0, -1)) do
              fingerprints[#fingerprints + 1] = fingerprint(element)
            end
            return fingerprints
            """
    )

    /// Gives back to the right of `pending` up to `count` elements of each fingerprint (`A.rest`:
    /// fingerprint, count, fingerprint, count, ...) still in the processing list, unless the
    /// worker's registration is over. Returns how many moved.
    static let giveBackByFingerprint = RedisScript(
        name: "giveBackByFingerprint",
        keys: ["processing", "pending", "epochs"],
        arguments: ["worker", "epoch"],
        rest: true,
        body: registeredLua + fingerprintLua + """
            if not registered(K.epochs, A.worker, A.epoch) then return 0 end
            local wanted = {}
            for i = 1, #A.rest, 2 do wanted[A.rest[i]] = tonumber(A.rest[i + 1]) end
            local moved = 0
            for _, element in ipairs(redis.call('LRANGE', K.processing, 0, -1)) do
              local print = fingerprint(element)
              if (wanted[print] or 0) > 0 and redis.call('LREM', K.processing, -1, element) > 0 then
                redis.call('RPUSH', K.pending, element)
                wanted[print] = wanted[print] - 1
                moved = moved + 1
              end
            end
            return moved
            """
    )

    /// A worker leaving cleanly: whatever it still holds goes back to the right of `pending`, and its
    /// registration ends. Nothing, when that registration was already over.
    static let deregister = RedisScript(
        name: "deregister",
        keys: ["workers", "processing", "pending", "paused", "epochs", "workerInfo"],
        arguments: ["worker", "epoch"],
        body: registeredLua + """
            if not registered(K.epochs, A.worker, A.epoch) then return -1 end
            local moved = 0
            while redis.call('LMOVE', K.processing, K.pending, 'LEFT', 'RIGHT') do moved = moved + 1 end
            redis.call('ZREM', K.workers, A.worker)
            redis.call('HDEL', K.paused, A.worker)
            redis.call('HDEL', K.epochs, A.worker)
            redis.call('HDEL', K.workerInfo, A.worker)
            return moved
            """
    )
}
