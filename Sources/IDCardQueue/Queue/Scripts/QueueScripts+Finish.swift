import IDCardContract

/// A job's last steps: each way a job ends is one script.
extension QueueScripts {
    /// Ends a job in one step: take it out of the processing list, store the result, dead-letter,
    /// remember the recognition, reply, drop its claims, and (while the worker is taking jobs) take
    /// the next one.
    ///
    /// A failure never replaces a stored success of the same id (a later bad job reusing a good
    /// id); a failure of the same image as a stored success (another holder of the job succeeded)
    /// is no failure at all: the job ends as that success, without a dead letter (4th element 1).
    /// A success is not stored over another image's success under the same id: that returns `{-2}`
    /// and the caller ends the job as `id_conflict`. A success of the same image as a stored
    /// failure (another copy of the job, a producer's duplicate, failed: set aside as `worker_lost`
    /// while this one ran) supersedes it: the failure's dead letter is taken back and its count
    /// moved to the successes, so the job ends in one state, the better one (not for a sealed or
    /// base64 letter above 64 KiB, whose bytes are not kept twice). For a job that is someone else's
    /// now (the worker's registration is over: `{-1}`; or it was no longer in the list: 0) only a paid
    /// success and its recognition are kept, where no result is. Otherwise `{1, the next job or
    /// nil, refused, copy of a success}`.
    ///
    /// Keys: `result`, `idClaim` and `letterOf` (how the id's failure wrote its dead letter) are
    /// absent for an element without a valid id; `image` without a recognition to remember;
    /// `imageClaim` when the bytes are not deduplicated. Arguments: `result` ('' keeps the stored
    /// one), `id` ('' for none), `letterHead` and `letterTail` ('' for no dead letter) with
    /// `embedding` (how the element goes between them: 'job' as is, 'raw' as a JSON string, '' not
    /// at all), `recognition` to remember, `failure` ('1': must not replace a stored success),
    /// `takeNext` ('1'), `imageDigest` ('' when unknown), `call` (the claims' token).
    static let finish = RedisScript(
        name: "finish",
        keys: [
            "processing", "result?", "attempts", "dead", "image?", "replyTo?", "finished", "pending", "epochs",
            "oversized", "idClaim?", "imageClaim?", "letterOf?", "pause",
        ],
        arguments: [
            "element", "result", "ttl", "id", "letterHead", "recognition", "failure", "takeNext", "embedding",
            "letterTail", "worker", "epoch", "replyPrefix", "imageDigest", "mostElementBytes", "failedAt", "call",
        ],
        body: registeredLua + takeOneLua + storedSuccessLua + claimLua + """
            dropClaim(K.idClaim, A.call)
            dropClaim(K.imageClaim, A.call)
            local result = A.result
            local success = result ~= '' and A.failure ~= '1'
            local stored = storedSuccess(K.result)
            -- Another holder of the same job (a worker presumed dead, a producer's duplicate) may have
            -- succeeded meanwhile: this job's failure is then no failure, only a copy to drop.
            local copyOfSuccess = false
            if A.imageDigest ~= '' and stored and type(stored.imageDigest) == 'string' then
              if success and stored.imageDigest ~= A.imageDigest then
                if K.image then redis.call('SET', K.image, A.recognition, 'EX', A.ttl) end
                return {-2}
              end
              copyOfSuccess = not success and stored.imageDigest == A.imageDigest
            end
            -- For a job that is someone else's now: a paid success is kept where no result is yet (its
            -- next holder writes the same), never over another holder's failure, and nothing else.
            local function keepSuccess()
              if success and redis.call('EXISTS', K.result) == 0 then
                redis.call('SET', K.result, result, 'EX', A.ttl)
              end
              if K.image then redis.call('SET', K.image, A.recognition, 'EX', A.ttl) end
            end
            -- Another copy of this job failed for good while this one ran: its dead letter, rebuilt
            -- from how it was written and this copy's own bytes (the same), is taken back.
            local function supersedeFailure()
              if not success or A.imageDigest == '' or A.id == '' then return end
              local kept = redis.call('GET', K.letterOf)
              if not kept then return end
              local ok, letter = pcall(cjson.decode, kept)
              if not ok or type(letter) ~= 'table' or letter[4] ~= A.imageDigest then return end
              redis.call('DEL', K.letterOf)
              local embedded = ''
              if letter[2] == 'job' then
                embedded = A.element
              elseif letter[2] == 'raw' then
                embedded = cjson.encode(A.element)
              end
              if redis.call('LREM', K.dead, 1, letter[1] .. embedded .. letter[3]) > 0 then
                redis.call('HINCRBY', K.finished, 'failed', -1)
              end
            end
            -- Only lists of the queue's own namespace, and only lists: a job cannot make a worker grow,
            -- expire or trip over another key.
            local function reply(message)
              if not message or not K.replyTo then return end
              if string.sub(K.replyTo, 1, #A.replyPrefix) ~= A.replyPrefix then return end
              local kind = redis.call('TYPE', K.replyTo).ok
              if kind ~= 'list' and kind ~= 'none' then return end
              redis.call('LPUSH', K.replyTo, message)
              redis.call('EXPIRE', K.replyTo, A.ttl)
            end
            if not registered(K.epochs, A.worker, A.epoch) then
              keepSuccess()
              return {-1}
            end
            local removed = redis.call('LREM', K.processing, -1, A.element)
            if removed == 0 then
              -- A finish repeated after its reply was lost, or a job given back meanwhile (its next
              -- holder ends it): no second result, dead letter, count or reply.
              keepSuccess()
            elseif copyOfSuccess then
              if A.id ~= '' then redis.call('HDEL', K.attempts, A.id) end
              redis.call('HINCRBY', K.finished, 'succeeded', 1)
              reply(redis.call('GET', K.result))
            else
              supersedeFailure()
              -- A failure never replaces a stored success.
              if result ~= '' and not (A.failure == '1' and stored) then
                redis.call('SET', K.result, result, 'EX', A.ttl)
              end
              if A.id ~= '' then redis.call('HDEL', K.attempts, A.id) end
              if A.letterHead ~= '' then
                local embedded = ''
                if A.embedding == 'job' then
                  embedded = A.element
                elseif A.embedding == 'raw' then
                  embedded = cjson.encode(A.element)
                end
                redis.call('LPUSH', K.dead, A.letterHead .. embedded .. A.letterTail)
                -- Not for a letter whose head holds the job itself (sealed, base64) beyond 64 KiB: a
                -- second copy of it kept for the result TTL would cost more than the rare case it serves.
                if A.id ~= '' and A.imageDigest ~= '' and not stored and #A.letterHead + #A.letterTail <= 65536 then
                  local how = cjson.encode({A.letterHead, A.embedding, A.letterTail, A.imageDigest})
                  redis.call('SET', K.letterOf, how, 'EX', A.ttl)
                end
              end
              redis.call('HINCRBY', K.finished, A.letterHead ~= '' and 'failed' or 'succeeded', 1)
              if K.image then redis.call('SET', K.image, A.recognition, 'EX', A.ttl) end
              reply(result ~= '' and result or (K.result and redis.call('GET', K.result)))
            end
            local refused = {}
            local next = false
            if A.takeNext == '1' then
              next = takeOne(K.pending, K.processing, K.oversized, K.dead, K.finished, K.pause,
                tonumber(A.mostElementBytes), A.failedAt, A.worker, refused) or false
            end
            return {removed, next, refused, copyOfSuccess and removed > 0 and 1 or 0}
            """
    )

    /// Schedules another attempt: out of `processing`, into `delayed`, the attempt counted (also in
    /// `finished`'s `retried`, for the dashboard's rates), the call's claims dropped. Returns 1, 0
    /// when the job was no longer in the list, -1 when the worker's registration is over.
    /// `memberPrefix` keeps identical elements apart in `delayed`; `call` is the claims' token (''
    /// when the call made none).
    static let retry = RedisScript(
        name: "retry",
        keys: ["processing", "delayed", "attempts", "epochs", "idClaim", "imageClaim?", "finished"],
        arguments: ["element", "delayMs", "memberPrefix", "id", "attemptsMade", "worker", "epoch", "call"],
        body: registeredLua + claimLua + """
            dropClaim(K.idClaim, A.call)
            dropClaim(K.imageClaim, A.call)
            if not registered(K.epochs, A.worker, A.epoch) then return -1 end
            local removed = redis.call('LREM', K.processing, -1, A.element)
            -- Not ours any more (a repeat after a lost reply, or given back meanwhile): scheduling it
            -- again would run the job twice.
            if removed == 0 then return 0 end
            local t = redis.call('TIME')
            local due = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(A.delayMs)
            redis.call('ZADD', K.delayed, string.format('%.0f', due), A.memberPrefix .. A.element)
            redis.call('HSET', K.attempts, A.id, A.attemptsMade)
            redis.call('HINCRBY', K.finished, 'retried', 1)
            return removed
            """
    )

    /// Gives a job back untouched (shutdown, account error): to the right of `pending`, so it is
    /// taken next; its claims dropped. Returns as ``retry`` does.
    static let giveBack = RedisScript(
        name: "giveBack",
        keys: ["processing", "pending", "epochs", "idClaim?", "imageClaim?"],
        arguments: ["element", "worker", "epoch", "call"],
        body: registeredLua + claimLua + """
            dropClaim(K.idClaim, A.call)
            dropClaim(K.imageClaim, A.call)
            if not registered(K.epochs, A.worker, A.epoch) then return -1 end
            local removed = redis.call('LREM', K.processing, -1, A.element)
            if removed > 0 then redis.call('RPUSH', K.pending, A.element) end
            return removed
            """
    )

    /// Writes a success again after the worker moved to a new master: one the old master took and
    /// may not have passed on. Never over a stored result. Returns 1 when it was missing.
    static let restoreSuccess = RedisScript(
        name: "restoreSuccess",
        keys: ["result"],
        arguments: ["result", "ttl"],
        body: """
            -- Never over a result: a success is there already, or the job's next holder failed it for good.
            if redis.call('EXISTS', K.result) == 1 then return 0 end
            redis.call('SET', K.result, A.result, 'EX', A.ttl)
            return 1
            """
    )

    /// The failed result of a job refused at the take for its size (its id read from its first
    /// bytes), and its reply: a failure never replaces a stored success.
    static let answerRefused = RedisScript(
        name: "answerRefused",
        keys: ["result", "replyTo?"],
        arguments: ["result", "ttl", "replyPrefix"],
        body: storedSuccessLua + """
            if storedSuccess(K.result) then return 0 end
            redis.call('SET', K.result, A.result, 'EX', A.ttl)
            if K.replyTo and string.sub(K.replyTo, 1, #A.replyPrefix) == A.replyPrefix then
              redis.call('LPUSH', K.replyTo, A.result)
              redis.call('EXPIRE', K.replyTo, A.ttl)
            end
            return 1
            """
    )
}
