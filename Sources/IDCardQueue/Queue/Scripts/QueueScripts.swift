import IDCardContract

/// The Lua scripts behind the queue's atomic steps, one file per part of a job's life.
///
/// Clock: Redis `TIME`, so hosts' clocks never matter. Every key a script touches is named
/// under the queue's hash tag; the few pieces of Lua several scripts need are pasted at their top.
/// Scripts read their keys and arguments by name, `K.name` and `A.name` (``RedisScript``); an
/// optional key the caller gave as `nil` is `false`.
enum QueueScripts {
    /// `registered(epochs, worker, epoch)`: whether the worker still holds the registration its
    /// step names. A reaped worker's steps are refused (``WorkerRegistration``).
    static let registeredLua = """
        local function registered(epochs, worker, epoch)
          return redis.call('HGET', epochs, worker) == epoch
        end

        """

    /// `checkedNow(expectedNowMs, toleranceMs)`: Redis's clock in ms, and whether it is more than
    /// `toleranceMs` off what the caller expects (`0`: no expectation yet): a step.
    static let clockLua = """
        local function checkedNow(expectedNowMs, toleranceMs)
          local t = redis.call('TIME')
          local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
          local expected = tonumber(expectedNowMs)
          return now, expected > 0 and math.abs(now - expected) > tonumber(toleranceMs)
        end

        """

    /// `storedSuccess(key)`: the result stored under `key`, decoded, when it is a success; `nil`
    /// otherwise (no key, none, a failure, not JSON, or not a string: a producer's key in the way).
    static let storedSuccessLua = """
        local function storedSuccess(key)
          if not key then return nil end
          local stored = redis.pcall('GET', key)
          if type(stored) ~= 'string' then return nil end
          local ok, decoded = pcall(cjson.decode, stored)
          if ok and type(decoded) == 'table' and decoded.status == 'succeeded' then return decoded end
          return nil
        end

        """

    /// `claimHolds(key, epochs, own, now)`: ms left on another call's claim of `key`, or `nil` when
    /// there is none that holds (or no key); `dropClaim(key, own)` drops the claim when it is `own`. A claim is
    /// `worker|epoch|call|set at (ms, Redis clock)|for (ms)` and holds while its holder's
    /// registration lasts and its time runs by the clock it was set with: a step of Redis's clock
    /// back, which stretches every key's expiry, keeps no dead call's claim alive.
    static let claimLua = """
        local function claimHolds(key, epochs, own, now)
          if not key then return nil end
          local value = redis.call('GET', key)
          if not value or string.sub(value, 1, #own + 1) == own .. '|' then return nil end
          local worker, epoch, setAt, span = string.match(value, '^(.*)|(%d+)|[^|]*|(%d+)|(%d+)$')
          if not worker or redis.call('HGET', epochs, worker) ~= epoch then return nil end
          local age = now - tonumber(setAt)
          if age < -1000 or age > tonumber(span) then return nil end
          return tonumber(span) - age
        end
        local function dropClaim(key, own)
          if not key or own == '' then return end
          local value = redis.call('GET', key)
          if value and string.sub(value, 1, #own + 1) == own .. '|' then redis.call('DEL', key) end
        end

        """

    /// `fingerprint(element)`: names an element by its length and its first and last 8 KiB, so no
    /// script hashes megabytes (see ``JobQueue/fingerprint(of:)``, which must agree).
    static let fingerprintLua = """
        local function fingerprint(element)
          return redis.sha1hex(#element .. ':' .. string.sub(element, 1, 8192) .. string.sub(element, -8192))
        end

        """

    /// `recover(...)`: gives a dead holder's job back to the right of `pending`, counting the loss
    /// in the `lost` hash (by fingerprint, when in `lostAt`); a job lost `maxLosses` times goes to
    /// the caller's own list and into `setAside` instead, for the caller to dead-letter as
    /// `worker_lost` (a job that crashes workers stops here). `forgetOldLosses` drops counts last
    /// touched more than `lostTTL` seconds before `now` (ms), a few per call. Two keys for every
    /// count, rather than a key per element, so that a script declares every key it touches.
    static let recoverLua =
        fingerprintLua + """
            local function forgetOldLosses(lost, lostAt, now, lostTTL)
              local old = redis.call('ZRANGEBYSCORE', lostAt, '-inf', now - tonumber(lostTTL) * 1000, 'LIMIT', 0, 64)
              if #old > 0 then
                redis.call('HDEL', lost, unpack(old))
                redis.call('ZREM', lostAt, unpack(old))
              end
            end

            local function recover(element, pending, ownProcessing, lost, lostAt, now, maxLosses, setAside)
              local digest = fingerprint(element)
              local losses = redis.call('HINCRBY', lost, digest, 1)
              redis.call('ZADD', lostAt, now, digest)
              if losses >= maxLosses then
                redis.call('LPUSH', ownProcessing, element)
                setAside[#setAside + 1] = element
              else
                redis.call('RPUSH', pending, element)
              end
            end

            """

    /// `takeOne(pending, processing, oversized, dead, finished, pause, ...)`: moves the oldest job of
    /// `pending` into `processing` and returns it; `nil` while the queue is paused (`pause` exists:
    /// ``JobQueue/pause(by:reason:)``), as if `pending` were empty. An element
    /// larger than `maxElement` cannot hold a job that may succeed: it never reaches a worker. It
    /// goes whole into the `oversized` hash, a small dead letter naming its field goes onto `dead`,
    /// its field, size and first 4 KiB (for the id) join `refused`, and the next job is tried; at
    /// most 8 refusals per script, then `nil` as if `pending` were empty.
    static let takeOneLua = """
        local function takeOne(pending, processing, oversized, dead, finished, pause, maxElement, failedAt, worker,
                               refused)
          if redis.call('EXISTS', pause) == 1 then return nil end
          while #refused < 8 do
            local element = redis.call('LMOVE', pending, processing, 'RIGHT', 'LEFT')
            if not element or #element <= maxElement then return element end
            redis.call('LTRIM', processing, 1, -1)
            local t = redis.call('TIME')
            local field = t[1] .. '.' .. t[2] .. '.' .. #refused
            while redis.call('HSETNX', oversized, field, element) == 0 do field = field .. '+' end
            local message = 'the job is ' .. #element .. ' bytes, more than the ' .. maxElement ..
              ' bytes of any job that can succeed; it is kept whole beside this dead letter for dlq requeue'
            redis.call('LPUSH', dead,
              '{"job":null,"oversized":{"field":' .. cjson.encode(field) .. ',"bytes":' .. #element ..
              '},"error":{"code":"image_too_large","message":' .. cjson.encode(message) ..
              ',"retryable":false},"attempts":1,' ..
              '"failedAt":' .. cjson.encode(failedAt) .. ',"worker":' .. cjson.encode(worker) .. '}')
            redis.call('HINCRBY', finished, 'failed', 1)
            refused[#refused + 1] = {field, #element, string.sub(element, 1, 4096)}
          end
          return nil
        end

        """
}
