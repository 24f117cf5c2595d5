-- allow.lua decides one request against every scope's limits, atomically: it charges
-- all scopes or none. Time is the Redis server's, so every replica shares one clock.
--
-- KEYS: per scope, three keys: the requests window (hash bucket -> count), the tokens
--       window (hash bucket -> tokens) and the concurrency slots (zset member -> expiry ms).
-- ARGV: [1] estimated tokens, [2] slot member ("" for none), [3] slot TTL in ms,
--       then per scope: rpm, tpm, max_parallel (0 = unlimited).
-- Returns: {allowed, bucket, denied scope index, denied kind (1 requests, 2 tokens,
--          3 concurrency), limit, used, requested, retry ms}, then per scope: requests
--          used, requests reset ms, tokens used, tokens reset ms, slots in flight.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local W, N = 1000, 61
local b = math.floor(now / W)
local est = tonumber(ARGV[1])
local member = ARGV[2]
local ttl = tonumber(ARGV[3])
local n = #KEYS / 3

-- load reads a window, deleting the buckets that left it.
local function load(key)
  local raw = redis.call('HGETALL', key)
  local w = {counts = {}, total = 0, newest = nil}
  local stale = {}
  for i = 1, #raw, 2 do
    local k, v = tonumber(raw[i]), tonumber(raw[i + 1])
    if k <= b - N then
      stale[#stale + 1] = raw[i]
    else
      w.counts[k] = v
      w.total = w.total + v
      if v ~= 0 and (w.newest == nil or k > w.newest) then w.newest = k end
    end
  end
  if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  return w
end

-- retry is the time until need units have left the window; 0 when it never holds them.
local function retry(w, need)
  local acc = 0
  for k = b - N + 1, b do
    acc = acc + (w.counts[k] or 0)
    if acc >= need then return (k + N) * W - now end
  end
  return 0
end

local function reset(w)
  if w == nil or w.newest == nil then return 0 end
  return (w.newest + N) * W - now
end

local lim, st, denied = {}, {}, nil
for i = 1, n do
  local rpm, tpm, par = tonumber(ARGV[1 + 3 * i]), tonumber(ARGV[2 + 3 * i]), tonumber(ARGV[3 + 3 * i])
  local s = {r = nil, t = nil, c = 0}
  if rpm > 0 then s.r = load(KEYS[3 * i - 2]) end
  if tpm > 0 then s.t = load(KEYS[3 * i - 1]) end
  if par > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[3 * i], '-inf', now)
    s.c = redis.call('ZCARD', KEYS[3 * i])
  end
  lim[i], st[i] = {rpm, tpm, par}, s
  if denied == nil then
    if rpm > 0 and s.r.total + 1 > rpm then
      denied = {i, 1, rpm, s.r.total, 1, retry(s.r, s.r.total + 1 - rpm)}
    elseif tpm > 0 and s.t.total + est > tpm then
      denied = {i, 2, tpm, s.t.total, est, retry(s.t, s.t.total + est - tpm)}
    elseif par > 0 and s.c + 1 > par then
      denied = {i, 3, par, s.c, 1, 1000}
    end
  end
end

if denied == nil then
  for i = 1, n do
    local s, l = st[i], lim[i]
    if l[1] > 0 then
      redis.call('HINCRBY', KEYS[3 * i - 2], b, 1)
      redis.call('PEXPIRE', KEYS[3 * i - 2], (N + 1) * W)
      s.r.total, s.r.newest = s.r.total + 1, b
    end
    if l[2] > 0 and est > 0 then
      redis.call('HINCRBY', KEYS[3 * i - 1], b, est)
      redis.call('PEXPIRE', KEYS[3 * i - 1], (N + 1) * W)
      s.t.total, s.t.newest = s.t.total + est, b
    end
    if l[3] > 0 then
      redis.call('ZADD', KEYS[3 * i], now + ttl, member)
      redis.call('PEXPIRE', KEYS[3 * i], ttl)
      s.c = s.c + 1
    end
  end
end

local out = {denied == nil and 1 or 0, b}
for _, v in ipairs(denied or {0, 0, 0, 0, 0, 0}) do out[#out + 1] = v end
for i = 1, n do
  local s = st[i]
  out[#out + 1] = s.r and s.r.total or 0
  out[#out + 1] = reset(s.r)
  out[#out + 1] = s.t and s.t.total or 0
  out[#out + 1] = reset(s.t)
  out[#out + 1] = s.c
end
return out
