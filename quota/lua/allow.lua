-- allow.lua decides one request against every scope's limits, atomically: it charges
-- all scopes or none. Time is the Redis server's, so every replica shares one clock.
--
-- A window is a hash of one-second buckets (bucket -> count) and three fields that keep
-- a decision at a few commands per window however full the window is: total (the sum of
-- the buckets present), lo (no bucket below it is present) and hi (no bucket above it
-- holds a nonzero count). A hash without them (created by finish.lua after the window
-- expired) is rebuilt from its buckets once.
--
-- KEYS: per scope, three keys: the requests window, the tokens window and the
--       concurrency slots (zset member -> expiry ms).
-- ARGV: [1] estimated tokens, [2] slot member ("" for none), [3] slot TTL in ms,
--       then per scope: rpm, tpm, max_parallel (0 = unlimited), then optionally the
--       time in ms to use instead of the server's (for tests).
-- Returns: {allowed, bucket, denied scope index, denied kind (1 requests, 2 tokens,
--          3 concurrency), limit, used, requested, retry ms}, then per scope: requests
--          used, requests reset ms, tokens used, tokens reset ms, slots in flight.
local n = #KEYS / 3
local now = tonumber(ARGV[4 + 3 * n] or '')
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local W, N = 1000, 61
local b = math.floor(now / W)
local cut = b - N -- buckets up to cut have left the window
local est = tonumber(ARGV[1])
local member = ARGV[2]
local ttl = tonumber(ARGV[3])

-- rebuild reads a window without its summary fields from all its buckets, deleting the
-- buckets that left it.
local function rebuild(key)
  local raw = redis.call('HGETALL', key)
  local w = {key = key, total = 0, lo = cut + 1, hi = cut, exists = #raw > 0, dirty = #raw > 0}
  local stale = {}
  for i = 1, #raw, 2 do
    local k = tonumber(raw[i]) -- nil for the summary fields
    if k ~= nil and k <= cut then
      stale[#stale + 1] = raw[i]
    elseif k ~= nil then
      local v = tonumber(raw[i + 1])
      w.total = w.total + v
      if v ~= 0 and k > w.hi then w.hi = k end
    end
  end
  if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  return w
end

-- load reads a window's summary, taking out the buckets that left it since the last
-- call: usually none or one.
local function load(key)
  local m = redis.call('HMGET', key, 'total', 'lo', 'hi')
  local total, lo, hi = tonumber(m[1]), tonumber(m[2]), tonumber(m[3])
  if total == nil or lo == nil or hi == nil or lo < cut - N then return rebuild(key) end
  local w = {key = key, total = total, lo = lo, hi = hi, exists = true, dirty = false}
  if lo <= cut then
    local gone = {}
    for k = lo, cut do gone[#gone + 1] = k end
    local v = redis.call('HMGET', key, unpack(gone))
    for i = 1, #v do w.total = w.total - (tonumber(v[i]) or 0) end
    redis.call('HDEL', key, unpack(gone))
    w.lo, w.dirty = cut + 1, true
  elseif lo > cut + 1 then
    -- The clock went back: buckets from here on must be taken out when they leave.
    w.lo, w.dirty = cut + 1, true
  end
  return w
end

-- counts returns the window's buckets by number, read once, for the rare callers that
-- need them one by one.
local function counts(w)
  if w.counts == nil then
    local ks = {}
    for k = cut + 1, math.min(math.max(b, w.hi), b + N) do ks[#ks + 1] = k end
    local v = redis.call('HMGET', w.key, unpack(ks))
    w.counts = {}
    for i = 1, #ks do w.counts[ks[i]] = tonumber(v[i]) or 0 end
  end
  return w.counts
end

-- newest returns the newest bucket with a nonzero count, nil when there is none.
local function newest(w)
  if w.total == 0 or w.hi <= cut then return nil end
  if tonumber(redis.call('HGET', w.key, w.hi) or '0') ~= 0 then return w.hi end
  -- Finishes emptied the newest bucket: look further back, and remember what was found.
  local c = counts(w)
  for k = w.hi - 1, cut + 1, -1 do
    if (c[k] or 0) ~= 0 then
      w.hi, w.dirty = k, true
      return k
    end
  end
  return nil
end

-- retry is the time until need units have left the window; 0 when it never holds them.
local function retry(w, need)
  local c = counts(w)
  local acc = 0
  for k = cut + 1, b do
    acc = acc + c[k]
    if acc >= need then return (k + N) * W - now end
  end
  return 0
end

-- charge counts v in the current bucket.
local function charge(w, v)
  redis.call('HINCRBY', w.key, b, v)
  w.total, w.charged, w.exists = w.total + v, true, true
  if b > w.hi then w.hi, w.dirty = b, true end
  if w.dirty then
    redis.call('HSET', w.key, 'total', w.total, 'lo', w.lo, 'hi', w.hi)
    -- The first charge in a bucket keeps the window until the bucket leaves it: later
    -- ones in the same bucket need not (hi is always set by then).
    redis.call('PEXPIRE', w.key, (N + 1) * W)
    w.dirty = false
  else
    redis.call('HINCRBY', w.key, 'total', v)
  end
end

local function reset(w)
  if w == nil then return 0 end
  local k = w.charged and b or newest(w)
  if k == nil then return 0 end
  return (k + N) * W - now
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
    if l[1] > 0 then charge(s.r, 1) end
    if l[2] > 0 and est > 0 then charge(s.t, est) end
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
-- Save what loading and resetting learnt about windows that were not charged. A window
-- that does not exist is not created: it would never expire.
for i = 1, n do
  for _, w in pairs({st[i].r, st[i].t}) do
    if w.dirty and w.exists then redis.call('HSET', w.key, 'total', w.total, 'lo', w.lo, 'hi', w.hi) end
  end
end
return out
