import IDCardContract

/// Operators' steps on `P:{Q}:dead`.
extension QueueScripts {
    /// Puts one dead letter back on `pending` and forgets the job's counters. An oversized
    /// element (`oversizedField`: its field) comes back from where the take kept it. Returns 1, 0 when the
    /// letter is gone already, -1 when it stays (its kept element is gone). `element` is '' for an
    /// oversized one, `id` '' for none.
    static let requeue = RedisScript(
        name: "requeue",
        keys: ["dead", "pending", "attempts", "oversized"],
        arguments: ["letter", "element", "id", "oversizedField"],
        body: """
            local element = A.element
            if A.oversizedField ~= '' then
              element = redis.call('HGET', K.oversized, A.oversizedField)
              -- The kept element is gone (purged): the letter stays, and says what it was.
              if not element then return -1 end
            end
            local removed = redis.call('LREM', K.dead, 1, A.letter)
            if removed > 0 then
              redis.call('LPUSH', K.pending, element)
              if A.oversizedField ~= '' then redis.call('HDEL', K.oversized, A.oversizedField) end
              if A.id ~= '' then redis.call('HDEL', K.attempts, A.id) end
            end
            return removed
            """
    )

    /// Letters `offset` to `offset + count - 1`, newest first, each as `{bytes, letter}`: the letter
    /// itself up to `most` bytes; above, a summary without the job (an image, up to megabytes,
    /// never leaves Redis for a page of the dashboard): `{"job":null,"summarized":true` with the
    /// `"id"` found in its first 4 KiB and everything from the last `,"error":` in its last
    /// `most` bytes (the error, attempts, time and worker the worker wrote after the job).
    static let deadLetterSummaries = RedisScript(
        name: "deadLetterSummaries",
        keys: ["dead"],
        arguments: ["offset", "count", "most"],
        body: """
            local most = tonumber(A.most)
            local out = {}
            local letters = redis.call('LRANGE', K.dead, tonumber(A.offset), tonumber(A.offset) + tonumber(A.count) - 1)
            for _, letter in ipairs(letters) do
              if #letter <= most then
                out[#out + 1] = {#letter, letter}
              else
                local tail = string.sub(letter, -most)
                local at, last = nil, 1
                while true do
                  local found = string.find(tail, ',"error":', last, true)
                  if not found then break end
                  at, last = found, found + 1
                end
                local summary = '{"job":null,"summarized":true'
                local id = string.match(string.sub(letter, 1, 4096), '"id"%s*:%s*"([A-Za-z0-9._:-]+)"')
                if id then summary = summary .. ',"id":"' .. id .. '"' end
                out[#out + 1] = {#letter, at and (summary .. string.sub(tail, at)) or (summary .. '}')}
              end
            end
            return out
            """
    )

    /// Drops the dead list and the oversized elements its letters kept, returning how many letters there were.
    static let purge = RedisScript(
        name: "purge",
        keys: ["dead", "oversized"],
        arguments: [],
        body: """
            local count = redis.call('LLEN', K.dead)
            redis.call('DEL', K.dead, K.oversized)
            return count
            """
    )
}
