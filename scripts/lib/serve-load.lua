-- wrk -s serve-load.lua: keep-alive load on serve's POST /1429-1 (env IMG: an image file, KEY: an
-- API key). ServeTests and scripts/benchmark run it.
-- POST /1429-1 with a distinct image per request: a JPEG (padded to a multiple of 3 bytes)
-- followed by a 9-digit counter, so each request is a new job, not a stored result.
local chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
local function enc(data)
  return ((data:gsub('.', function(x)
    local r, b = '', x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and '1' or '0') end
    return r
  end) .. '0000'):gsub('%d%d%d?%d?%d?%d?', function(x)
    if #x < 6 then return '' end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == '1' and 2 ^ (6 - i) or 0) end
    return chars:sub(c + 1, c + 1)
  end) .. ({ '', '==', '=' })[#data % 3 + 1])
end
local function esc(s) return (s:gsub('%+', '%%2B'):gsub('/', '%%2F'):gsub('=', '%%3D')) end
local threads = {}
local id = 0
function setup(thread) id = id + 1; thread:set('tid', id); table.insert(threads, thread) end
local base, counter
function init(args)
  local f = io.open(os.getenv('IMG'), 'rb'); local img = f:read('*a'); f:close()
  while #img % 3 ~= 0 do img = img .. '\0' end
  base = esc(enc(img)); counter = tid * 100000000 + math.random(0, 9999999) * 10
end
function request()
  counter = counter + 1
  local body = 'type=1&imgData=' .. base .. esc(enc(string.format('%09d', counter % 1000000000)))
  return wrk.format('POST', '/1429-1?appKey=' .. os.getenv('KEY'),
    { ['Content-Type'] = 'application/x-www-form-urlencoded' }, body)
end
codes = {}  -- a global: done() reads each thread's with thread:get
function response(status, headers, body)
  local code = body:match('"showapi_res_code":(%-?%d+)') or ('http' .. status)
  codes[code] = (codes[code] or 0) + 1
end
-- Each thread counts its answers by showapi_res_code; done() adds them up: "codes 0=N -3=M ...".
function done(summary, latency, requests)
  io.write(string.format('p50 %.1f ms  p99 %.1f ms\n', latency:percentile(50) / 1000, latency:percentile(99) / 1000))
  local total = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get('codes') or {}) do total[code] = (total[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(total) do table.insert(parts, code .. '=' .. n) end
  table.sort(parts)
  io.write('codes ' .. table.concat(parts, ' ') .. '\n')
end
