-- finish.lua settles a decision's tokens and frees its concurrency slot, in one call.
--
-- KEYS: the tokens windows to settle (ARGV[1] of them), then the slot zsets to release.
-- ARGV: [1] number of windows to settle, [2] the bucket the tokens were reserved in,
--       [3] the token delta (actual - estimate), [4] the slot member.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local W, N = 1000, 61
local b = math.floor(now / W)
local ns, rb, delta = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])

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
for i = ns + 1, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[4])
end
return 1
