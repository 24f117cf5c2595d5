-- finish.lua settles a decision's tokens, takes back its request when it was cancelled,
-- and frees its concurrency slot, in one call.
--
-- KEYS: the tokens windows to settle (ARGV[1] of them), then the requests windows to
--       refund (ARGV[5] of them), then the slot zsets to release.
-- ARGV: [1] number of tokens windows, [2] the bucket the request was counted in,
--       [3] the token delta (actual - estimate), [4] the slot member,
--       [5] number of requests windows (absent: none).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local W, N = 1000, 61
local b = math.floor(now / W)
local ns, rb, delta = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local nr = tonumber(ARGV[5] or '0')

for i = 1, ns do
  local k = KEYS[i]
  if rb > b - N then
    -- The reservation is still counted: correct it in place, never below zero.
    if redis.call('HINCRBY', k, rb, delta) < 0 then redis.call('HSET', k, rb, 0) end
    redis.call('PEXPIRE', k, (N + 1) * W)
  elseif delta > 0 then
    -- The reservation has left the window: count what was used beyond it now.
    redis.call('HINCRBY', k, b, delta)
    redis.call('PEXPIRE', k, (N + 1) * W)
  end
end
if rb > b - N then
  for i = ns + 1, ns + nr do
    -- A request that left the window needs no refund; one still counted is taken back,
    -- never below zero.
    if redis.call('HINCRBY', KEYS[i], rb, -1) < 0 then redis.call('HSET', KEYS[i], rb, 0) end
    redis.call('PEXPIRE', KEYS[i], (N + 1) * W)
  end
end
for i = ns + nr + 1, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[4])
end
return 1
