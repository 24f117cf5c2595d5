-- finish.lua settles a decision's tokens, takes back its request when it was cancelled,
-- and frees its concurrency slot, in one call.
--
-- KEYS: the tokens windows to settle (ARGV[1] of them), then the requests windows to
--       refund (ARGV[5] of them), then the slot zsets to release.
-- ARGV: [1] number of tokens windows, [2] the bucket the request was counted in,
--       [3] the token delta (actual - estimate), [4] the slot member,
--       [5] number of requests windows (absent: none), [6] optionally the time in ms
--       to use instead of the server's (for tests).
local now = tonumber(ARGV[6] or '')
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local W, N = 1000, 61
local b = math.floor(now / W)
local ns, rb, delta = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local nr = tonumber(ARGV[5] or '0')

-- add adds d to bucket k of a window, never taking the bucket below zero, and keeps the
-- window's summary fields true (see allow.lua). A window without them gets a total
-- only, which tells allow.lua to rebuild it.
local function add(key, k, d)
  local m = redis.call('HMGET', key, 'lo', 'hi')
  local v = redis.call('HINCRBY', key, k, d)
  if v < 0 then
    redis.call('HSET', key, k, 0)
    d, v = d - v, 0
  end
  if d ~= 0 then redis.call('HINCRBY', key, 'total', d) end
  local lo, hi = tonumber(m[1]), tonumber(m[2])
  if lo ~= nil and k < lo then redis.call('HSET', key, 'lo', k) end
  if hi ~= nil and v > 0 and k > hi then redis.call('HSET', key, 'hi', k) end
  -- A window expires after its bucket hi leaves it (see allow.lua), so only a bucket
  -- past hi needs a longer life.
  if hi == nil or k > hi then redis.call('PEXPIRE', key, (N + 1) * W) end
end

for i = 1, ns do
  if rb > b - N then
    -- The reservation is still counted: correct it in place.
    add(KEYS[i], rb, delta)
  elseif delta > 0 then
    -- The reservation has left the window: count what was used beyond it now.
    add(KEYS[i], b, delta)
  end
end
if rb > b - N then
  for i = ns + 1, ns + nr do
    -- A request that left the window needs no refund; one still counted is taken back.
    add(KEYS[i], rb, -1)
  end
end
for i = ns + nr + 1, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[4])
end
return 1
