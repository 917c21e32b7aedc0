import IDCardContract

/// A job's last steps: each way a job ends is one script.
extension QueueScripts {
    /// Ends a job in one step: release it, store the result, dead-letter, cache the recognition,
    /// reply, drop its claims, and (while the worker is taking jobs) take the next one.
    ///
    /// A failure never replaces a stored success of the same id (a later bad job reusing a good
    /// id); a failure of the same image as a stored success (another holder of the job succeeded)
    /// is no failure at all: the job ends as that success, without a dead letter (4th element 1).
    /// A success is not stored over another image's success under the same id: that returns `{-2}`
    /// and the caller ends the job as `id_conflict`. A success of the same image as a stored
    /// failure (another copy of the job, a producer's duplicate, failed: set aside as `worker_lost`
    /// while this one ran) supersedes it: the failure's dead letter is taken back and its count
    /// moved to the successes, so the job ends in one state, the better one (not for a sealed or
    /// base64 letter above 64 KiB, whose bytes are not kept twice). For a job that is someone else's now (the
    /// worker's registration is over: `{-1}`; or it was no longer in the list: 0) only a paid
    /// success and its recognition are kept, where no result is. Otherwise `{1, the next job or
    /// nil, refused, copy of a success}`.
    static let finish = RedisScript(name: "finish", source: registeredLua + takeOneLua + storedSuccessLua + claimLua + """
        -- KEYS: 1 processing, 2 result, 3 attempts, 4 dead, 5 image, 6 replyTo, 7 finished, 8 pending, 9 epochs,
        --       10 oversized, 11 id claim, 12 image claim, 13 how the id's failure wrote its dead letter
        -- ARGV: 1 element, 2 result ('' = keep the stored one), 3 ttl s, 4 job id ('' = none), 5 dead letter head ('' = none),
        --       6 recognition to cache ('' = none), 7 reply ('1' = push the result onto replyTo), 8 failure ('1':
        --       must not replace a stored success), 9 take the next job ('1'), 10 how the dead letter embeds the
        --       element ('job': as is, 'raw': as a JSON string, '': not), 11 dead letter tail, 12 worker, 13 epoch,
        --       14 reply prefix, 15 the job's image digest ('' = unknown), 16 most bytes of one element, 17 failedAt, 18 claim token
        dropClaim(KEYS[11], ARGV[18])
        dropClaim(KEYS[12], ARGV[18])
        local result = ARGV[2]
        local success = result ~= '' and ARGV[8] ~= '1'
        local stored = storedSuccess(KEYS[2])
        -- Another holder of the same job (a worker presumed dead, a producer's duplicate) may have
        -- succeeded meanwhile: this job's failure is then no failure, only a copy to drop.
        local copyOfSuccess = false
        if ARGV[15] ~= '' and stored and type(stored.imageDigest) == 'string' then
          if success and stored.imageDigest ~= ARGV[15] then
            if ARGV[6] ~= '' then redis.call('SET', KEYS[5], ARGV[6], 'EX', ARGV[3]) end
            return {-2}
          end
          copyOfSuccess = not success and stored.imageDigest == ARGV[15]
        end
        -- For a job that is someone else's now: a paid success is kept where no result is yet (its
        -- next holder writes the same), never over another holder's failure, and nothing else.
        local function keepSuccess()
          if success and redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], result, 'EX', ARGV[3]) end
          if ARGV[6] ~= '' then redis.call('SET', KEYS[5], ARGV[6], 'EX', ARGV[3]) end
        end
        -- Another copy of this job failed for good while this one ran: its dead letter, rebuilt
        -- from how it was written and this copy's own bytes (the same), is taken back.
        local function supersedeFailure()
          if not success or ARGV[15] == '' or ARGV[4] == '' then return end
          local kept = redis.call('GET', KEYS[13])
          if not kept then return end
          local ok, letter = pcall(cjson.decode, kept)
          if not ok or type(letter) ~= 'table' or letter[4] ~= ARGV[15] then return end
          redis.call('DEL', KEYS[13])
          local embedded = ''
          if letter[2] == 'job' then embedded = ARGV[1] elseif letter[2] == 'raw' then embedded = cjson.encode(ARGV[1]) end
          if redis.call('LREM', KEYS[4], 1, letter[1] .. embedded .. letter[3]) > 0 then
            redis.call('HINCRBY', KEYS[7], 'failed', -1)
          end
        end
        -- Only lists of the queue's own namespace, and only lists: a job cannot make a worker grow,
        -- expire or trip over another key.
        local function reply(message)
          if not message or ARGV[7] ~= '1' or string.sub(KEYS[6], 1, #ARGV[14]) ~= ARGV[14] then return end
          local kind = redis.call('TYPE', KEYS[6]).ok
          if kind ~= 'list' and kind ~= 'none' then return end
          redis.call('LPUSH', KEYS[6], message)
          redis.call('EXPIRE', KEYS[6], ARGV[3])
        end
        if not registered(KEYS[9], ARGV[12], ARGV[13]) then
          keepSuccess()
          return {-1}
        end
        local removed = redis.call('LREM', KEYS[1], -1, ARGV[1])
        if removed == 0 then
          -- A finish repeated after its reply was lost, or a job given back meanwhile (its next
          -- holder ends it): no second result, dead letter, count or reply.
          keepSuccess()
        elseif copyOfSuccess then
          if ARGV[4] ~= '' then redis.call('HDEL', KEYS[3], ARGV[4]) end
          redis.call('HINCRBY', KEYS[7], 'succeeded', 1)
          reply(redis.call('GET', KEYS[2]))
        else
          supersedeFailure()
          -- A failure never replaces a stored success.
          if result ~= '' and not (ARGV[8] == '1' and stored) then redis.call('SET', KEYS[2], result, 'EX', ARGV[3]) end
          if ARGV[4] ~= '' then redis.call('HDEL', KEYS[3], ARGV[4]) end
          if ARGV[5] ~= '' then
            local embedded = ''
            if ARGV[10] == 'job' then embedded = ARGV[1] elseif ARGV[10] == 'raw' then embedded = cjson.encode(ARGV[1]) end
            redis.call('LPUSH', KEYS[4], ARGV[5] .. embedded .. ARGV[11])
            -- Not for a letter whose head holds the job itself (sealed, base64) beyond 64 KiB: a
            -- second copy of it kept for the result TTL would cost more than the rare case it serves.
            if ARGV[4] ~= '' and ARGV[15] ~= '' and not stored and #ARGV[5] + #ARGV[11] <= 65536 then
              redis.call('SET', KEYS[13], cjson.encode({ARGV[5], ARGV[10], ARGV[11], ARGV[15]}), 'EX', ARGV[3])
            end
          end
          redis.call('HINCRBY', KEYS[7], ARGV[5] ~= '' and 'failed' or 'succeeded', 1)
          if ARGV[6] ~= '' then redis.call('SET', KEYS[5], ARGV[6], 'EX', ARGV[3]) end
          reply(result ~= '' and result or redis.call('GET', KEYS[2]))
        end
        local refused = {}
        local next = false
        if ARGV[9] == '1' then
          next = takeOne(KEYS[8], KEYS[1], KEYS[10], KEYS[4], KEYS[7], tonumber(ARGV[16]), ARGV[17], ARGV[12], refused) or false
        end
        return {removed, next, refused, copyOfSuccess and removed > 0 and 1 or 0}
        """)

    /// Schedules another attempt: out of `processing`, into `delayed`, the attempt counted, the
    /// call's claims dropped. Returns 1, 0 when the job was no longer in the list, -1 when the
    /// worker's registration is over.
    static let retry = RedisScript(name: "retry", source: registeredLua + claimLua + """
        -- KEYS: processing, delayed, attempts, epochs, id claim, image claim
        -- ARGV: element, delay ms, unique member prefix, job id, attempts made, worker, epoch, claim token
        dropClaim(KEYS[5], ARGV[8])
        dropClaim(KEYS[6], ARGV[8])
        if not registered(KEYS[4], ARGV[6], ARGV[7]) then return -1 end
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

    /// Gives a job back untouched (shutdown, account error): to the right of `pending`, so it is
    /// taken next; its claims dropped. Returns as ``retry`` does.
    static let release = RedisScript(name: "release", source: registeredLua + claimLua + """
        -- KEYS: processing, pending, epochs, id claim, image claim   ARGV: element, worker, epoch, claim token
        dropClaim(KEYS[4], ARGV[4])
        dropClaim(KEYS[5], ARGV[4])
        if not registered(KEYS[3], ARGV[2], ARGV[3]) then return -1 end
        local removed = redis.call('LREM', KEYS[1], -1, ARGV[1])
        if removed > 0 then redis.call('RPUSH', KEYS[2], ARGV[1]) end
        return removed
        """)

    /// Writes a success again after the worker moved to a new master: one the old master took and
    /// may not have passed on. Never over a stored result. Returns 1 when it was missing.
    static let restoreSuccess = RedisScript(name: "restoreSuccess", source: """
        -- KEYS: result   ARGV: result, ttl s
        -- Never over a result: a success is there already, or the job's next holder failed it for good.
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
        return 1
        """)

    /// The failed result of a job refused at the take for its size (its id read from its first
    /// bytes), and its reply: a failure never replaces a stored success.
    static let answerRefused = RedisScript(name: "answerRefused", source: storedSuccessLua + """
        -- KEYS: result, replyTo   ARGV: result, ttl s, reply prefix
        if storedSuccess(KEYS[1]) then return 0 end
        redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
        if string.sub(KEYS[2], 1, #ARGV[3]) == ARGV[3] then
          redis.call('LPUSH', KEYS[2], ARGV[1])
          redis.call('EXPIRE', KEYS[2], ARGV[2])
        end
        return 1
        """)
}
