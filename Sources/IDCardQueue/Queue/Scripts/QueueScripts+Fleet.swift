import IDCardContract

/// What the dashboard reads and keeps: the fleet's workers, the queue's rolling history.
extension QueueScripts {
    /// Every registered worker, newest heartbeat first: `{now ms, {worker, heartbeat ms, jobs held,
    /// paused reason or '', info or ''}...}`, the processing lists given in `K.rest` in the order of
    /// the worker ids in `A.rest` (read just before; a worker registered since is left out).
    static let fleet = RedisScript(
        name: "fleet",
        keys: ["workers", "paused", "workerInfo"],
        restKeys: true,
        arguments: [],
        rest: true,
        body: """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local listed = {}
            for index, worker in ipairs(A.rest) do
              local beat = redis.call('ZSCORE', K.workers, worker)
              if beat then
                listed[#listed + 1] = {worker, beat, redis.call('LLEN', K.rest[index]),
                  redis.call('HGET', K.paused, worker) or '', redis.call('HGET', K.workerInfo, worker) or ''}
              end
            end
            return {now, listed}
            """
    )

    /// Appends one sample to the queue's history unless this `bucketMs` already has one (every
    /// worker and dashboard samples; one of them per bucket writes), stamped with Redis's clock;
    /// keeps the newest `keep` and lets the list expire `keep` buckets after the last sample.
    /// `fields` is the sample's JSON object without its braces. Returns 1 when it was written.
    static let recordHistory = RedisScript(
        name: "recordHistory",
        keys: ["history"],
        arguments: ["fields", "bucketMs", "keep"],
        body: """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local bucket = tonumber(A.bucketMs)
            local last = redis.call('LINDEX', K.history, 0)
            local lastAt = last and tonumber(string.match(last, '^{"t":(%d+)'))
            if lastAt and math.floor(lastAt / bucket) >= math.floor(now / bucket) then return 0 end
            redis.call('LPUSH', K.history, '{"t":' .. string.format('%.0f', now) .. ',' .. A.fields .. '}')
            redis.call('LTRIM', K.history, 0, tonumber(A.keep) - 1)
            redis.call('PEXPIRE', K.history, bucket * tonumber(A.keep))
            return 1
            """
    )
}
