-- keepalive.lua extends the expiry of the concurrency slots still held by this replica.
-- A slot that already expired is not brought back.
--
-- KEYS: slot zsets. ARGV: [1] slot TTL in ms, then the member held in each KEYS[i].
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
local kept = 0
for i = 1, #KEYS do
  kept = kept + redis.call('ZADD', KEYS[i], 'XX', 'CH', now + ttl, ARGV[i + 1])
  redis.call('PEXPIRE', KEYS[i], ttl)
end
return kept
