import IDCardContract

extension ClientLimiter {
    /// `{0, jobs charged now}`, `{1, µs until a request would pass}` or `{2, jobs used}`. The rate
    /// first (every request counts), then the quota for the job ids in `K.rest` not yet charged;
    /// the period's name comes from Redis's clock (days since 1970 in UTC, or the UTC month by the
    /// civil-from-days rule), so every process counts the same period.
    static let admitScript = RedisScript(
        name: "clientAdmit",
        keys: ["requests", "usage"],
        restKeys: true,
        arguments: ["rate", "burst", "quota", "period", "chargeSeconds"],
        body: """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            local rate = tonumber(A.rate)
            if rate > 0 then
              local interval = 1000000 / rate
              local tolerance = tonumber(A.burst) * interval
              local tat = math.max(tonumber(redis.call('GET', K.requests) or '0'), now)
              local after = tat + interval
              if after - now > tolerance then
                return {1, math.ceil(after - now - tolerance)}
              end
              redis.call('SET', K.requests, string.format('%.0f', after), 'PX', math.ceil((after - now) / 1000) + 1000)
            end
            local fresh = {}
            for _, key in ipairs(K.rest) do
              if redis.call('EXISTS', key) == 0 then fresh[#fresh + 1] = key end
            end
            if #fresh == 0 then return {0, 0} end
            local period = 'total'
            local days = math.floor(tonumber(t[1]) / 86400)
            if A.period == 'day' then
              period = 'd' .. days
            elseif A.period == 'month' then
              local z = days + 719468
              local era = math.floor(z / 146097)
              local doe = z - era * 146097
              local yoe = doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)
              yoe = math.floor(yoe / 365)
              local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
              local mp = math.floor((5 * doy + 2) / 153)
              local month = mp < 10 and mp + 3 or mp - 9
              local year = yoe + era * 400 + (month <= 2 and 1 or 0)
              period = string.format('m%04d%02d', year, month)
            end
            local stored = redis.call('HMGET', K.usage, 'period', 'count')
            local used = 0
            if stored[1] == period then used = tonumber(stored[2] or '0') end
            local quota = tonumber(A.quota)
            if quota > 0 and used + #fresh > quota then return {2, used} end
            redis.call('HSET', K.usage, 'period', period, 'count', used + #fresh)
            for _, key in ipairs(fresh) do
              redis.call('SET', key, '1', 'EX', A.chargeSeconds)
            end
            return {0, #fresh}
            """
    )
}
