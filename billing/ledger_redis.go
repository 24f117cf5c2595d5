package billing

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis layout, under the prefix (one hash tag, so one cluster slot):
//
//	<prefix>b:<window>   hash {spent, reserved}: a budget period's counters, nano-USD
//	<prefix>z:<window>   sorted set of "<amount>|<reservation>" scored by expiry (ms)
//	<prefix>r:<reservation>  "r" while held, "s" once settled (idempotency marker)
//
// Counter hashes expire a day after their period ends (a week after the last use for
// total budgets) and are seeded again from the database when next needed. Lua numbers
// are doubles: counters are exact up to 2^53 nano-USD (about $9 million) per budget.

// reserveScript holds ARGV[1] against every budget or none, in one round trip.
// KEYS: marker, then (hash, zset) per budget. ARGV: amount, now ms, expiry ms, member,
// held-marker TTL s, then (limit, seed or "", TTL s) per budget. It answers {1} when held
// (or already held), {2, i...} when budgets i have no counter and no seed was given, and
// {0, i, spent, reserved} when budget i refuses.
var reserveScript = redis.NewScript(`
local n = (#KEYS - 1) / 2
local amt = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then return {1} end
local missing = {2}
for i = 1, n do
  local h = KEYS[2*i]
  if redis.call('EXISTS', h) == 0 then
    local seed = ARGV[5 + 3*i - 1]
    if seed == '' then missing[#missing+1] = i
    else redis.call('HSET', h, 'spent', seed, 'reserved', 0) end
  end
end
if #missing > 1 then return missing end
for i = 1, n do
  local h, z = KEYS[2*i], KEYS[2*i+1]
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', z, '-inf', ARGV[2], 'LIMIT', 0, 64)) do
    redis.call('HINCRBY', h, 'reserved', -tonumber(string.match(m, '^(%d+)|')))
    redis.call('ZREM', z, m)
  end
end
if amt > 0 then
  for i = 1, n do
    local h = KEYS[2*i]
    local spent = tonumber(redis.call('HGET', h, 'spent') or '0')
    local held = tonumber(redis.call('HGET', h, 'reserved') or '0')
    if spent + held + amt > tonumber(ARGV[5 + 3*i - 2]) then return {0, i, spent, held} end
  end
end
for i = 1, n do
  local h, z = KEYS[2*i], KEYS[2*i+1]
  if amt > 0 then
    redis.call('HINCRBY', h, 'reserved', amt)
    redis.call('ZADD', z, ARGV[3], ARGV[4])
    redis.call('EXPIRE', z, ARGV[5 + 3*i])
  end
  redis.call('EXPIRE', h, ARGV[5 + 3*i])
end
redis.call('SET', KEYS[1], 'r', 'EX', ARGV[5])
return {1}
`)

// settleScript adds the actual cost and releases the hold, once per reservation.
// KEYS: marker, then (hash, zset) per budget. ARGV: actual, member, amount,
// settled-marker TTL s, then TTL s per budget. It answers {0} when already settled, else {1, spent...} with
// -1 for a budget whose counter has expired (the database has the record).
var settleScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == 's' then return {0} end
local n = (#KEYS - 1) / 2
local out = {1}
for i = 1, n do
  local h, z = KEYS[2*i], KEYS[2*i+1]
  local removed = redis.call('ZREM', z, ARGV[2])
  if redis.call('EXISTS', h) == 1 then
    if removed == 1 then redis.call('HINCRBY', h, 'reserved', -tonumber(ARGV[3])) end
    out[#out+1] = redis.call('HINCRBY', h, 'spent', ARGV[1])
    redis.call('EXPIRE', h, ARGV[4 + i])
  else
    out[#out+1] = -1
  end
end
redis.call('SET', KEYS[1], 's', 'EX', ARGV[4])
return out
`)

// settledMemo is how long a settled reservation id is remembered, so that a repeated
// settlement of it is a no-op. The same *Reservation is never settled twice, however
// late; this covers a reservation made twice under one id. Held reservations are
// remembered until they expire.
const settledMemo = 2 * time.Minute

// redisCounters keeps budget windows in Redis, shared by every replica.
type redisCounters struct {
	rdb    RedisClient
	prefix string
}

// keys returns the marker key and the (hash, zset) keys of res's windows.
func (r *redisCounters) keys(res *Reservation) []string {
	ks := []string{r.prefix + "r:" + res.id()}
	for _, w := range res.windows {
		ks = append(ks, r.prefix+"b:"+w.id(), r.prefix+"z:"+w.id())
	}
	return ks
}

// windowTTL is how long a window's counters stay in Redis after now.
func windowTTL(w window, now time.Time) int64 {
	if w.Period == PeriodTotal {
		return int64((7 * 24 * time.Hour).Seconds())
	}
	return int64(w.end.Sub(now).Seconds()) + int64((24 * time.Hour).Seconds())
}

// member is res's entry in the expiry sets.
func member(res *Reservation) string {
	return strconv.FormatInt(int64(res.Amount), 10) + "|" + res.id()
}

func (r *redisCounters) reserve(ctx context.Context, res *Reservation, seed seedFunc) (int, Money, Money, error) {
	return r.reserveFrom(ctx, res, seed, nil)
}

// reserveArgs are the reserve script's arguments, with seeds[i] the persisted spend of
// window i ("" when it is not needed).
func reserveArgs(res *Reservation, seeds []string) []any {
	args := make([]any, 0, 5+3*len(res.windows))
	args = append(args, int64(res.Amount), res.At.UnixMilli(), res.expires.UnixMilli(), member(res),
		int64(res.expires.Sub(res.At).Seconds())+60)
	for i, w := range res.windows {
		args = append(args, int64(w.Limit), seeds[i], windowTTL(w, res.At))
	}
	return args
}

// queueReserve queues the reserve script, without seeds, on a pipeline.
func (r *redisCounters) queueReserve(ctx context.Context, pipe redis.Pipeliner, res *Reservation) *redis.Cmd {
	return reserveScript.EvalSha(ctx, pipe, r.keys(res), reserveArgs(res, make([]string, len(res.windows)))...)
}

// reserveFrom reserves res. Its first script call is cmd when a pipeline already sent
// it; when that call found unseeded counters, or Redis had lost the script, reserveFrom
// makes the next call itself.
func (r *redisCounters) reserveFrom(ctx context.Context, res *Reservation, seed seedFunc, cmd *redis.Cmd) (int, Money, Money, error) {
	seeds := make([]string, len(res.windows))
	for attempt := 0; ; attempt++ {
		if redo(cmd) {
			cmd = reserveScript.Run(ctx, r.rdb, r.keys(res), reserveArgs(res, seeds)...)
		}
		out, err := cmd.Int64Slice()
		cmd = nil
		if err != nil {
			return 0, 0, 0, fmt.Errorf("reserving budget in Redis: %w", err)
		}
		switch {
		case out[0] == 1:
			return -1, 0, 0, nil
		case out[0] == 0:
			return int(out[1]) - 1, Money(out[2]), Money(out[3]), nil
		case attempt > 0:
			return 0, 0, 0, fmt.Errorf("reserving budget in Redis: counters still unseeded")
		}
		for _, i := range out[1:] {
			spent, err := seed(ctx, res.windows[i-1])
			if err != nil {
				return 0, 0, 0, err
			}
			seeds[i-1] = strconv.FormatInt(int64(spent), 10)
		}
	}
}

// held reports whether a reserve script sent in a pipeline holds budget now.
func held(cmd *redis.Cmd) bool {
	out, err := cmd.Int64Slice()
	return err == nil && len(out) > 0 && out[0] == 1
}

func (r *redisCounters) settle(ctx context.Context, res *Reservation, actual Money, _ time.Time) ([]Money, error) {
	return r.settleFrom(ctx, res, actual, nil)
}

func settleArgs(res *Reservation, actual Money) []any {
	args := make([]any, 0, 4+len(res.windows))
	args = append(args, int64(actual), member(res), int64(res.Amount), int64(settledMemo.Seconds()))
	for _, w := range res.windows {
		args = append(args, windowTTL(w, res.At))
	}
	return args
}

// redo reports whether a script sent in a pipeline must be sent again on its own: it
// was not sent (nil), Redis had lost it (NOSCRIPT), or the pipeline as a whole failed
// without a reply from Redis. The last happens when the pipeline's deadline (the rate
// limiter's Redis timeout) passes on a gateway so busy that calls queue for a pooled
// connection; the budget must not answer budget_unavailable for that when a call of its
// own, under the request's context, would succeed. Both scripts are idempotent on the
// reservation's marker, so one that did run before the failure is not applied twice.
func redo(cmd *redis.Cmd) bool {
	if cmd == nil {
		return true
	}
	err := cmd.Err()
	if err == nil {
		return false
	}
	var reply redis.Error
	return redis.HasErrorPrefix(err, "NOSCRIPT") || !errors.As(err, &reply)
}

// queueSettle queues the settle script on a pipeline.
func (r *redisCounters) queueSettle(ctx context.Context, pipe redis.Pipeliner, res *Reservation, actual Money) *redis.Cmd {
	return settleScript.EvalSha(ctx, pipe, r.keys(res), settleArgs(res, actual)...)
}

// settleFrom settles res from cmd, its settle script already sent in a pipeline, or
// makes the call itself without cmd or when Redis had lost the script.
func (r *redisCounters) settleFrom(ctx context.Context, res *Reservation, actual Money, cmd *redis.Cmd) ([]Money, error) {
	if redo(cmd) {
		cmd = settleScript.Run(ctx, r.rdb, r.keys(res), settleArgs(res, actual)...)
	}
	out, err := cmd.Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("settling budget in Redis: %w", err)
	}
	if out[0] == 0 {
		return nil, nil
	}
	spent := make([]Money, 0, len(out)-1)
	for _, v := range out[1:] {
		spent = append(spent, Money(v))
	}
	return spent, nil
}

// on reports whether the counters live in client's Redis. Clients are compared by
// identity: *redis.Client, *redis.ClusterClient and *redis.Ring are pointers.
func (r *redisCounters) on(client redis.Scripter) bool {
	return client != nil && any(r.rdb) == any(client)
}

// read returns a window's counters; a window with no counter reads as its persisted
// spend with nothing held, without creating the counter.
func (r *redisCounters) read(ctx context.Context, w window, seed seedFunc) (Money, Money, error) {
	vals, err := r.rdb.HMGet(ctx, r.prefix+"b:"+w.id(), "spent", "reserved").Result()
	if err != nil {
		return 0, 0, fmt.Errorf("reading budget from Redis: %w", err)
	}
	if vals[0] == nil {
		spent, err := seed(ctx, w)
		return spent, 0, err
	}
	spent, _ := strconv.ParseInt(fmt.Sprint(vals[0]), 10, 64)
	held, _ := strconv.ParseInt(fmt.Sprint(vals[1]), 10, 64)
	return Money(spent), Money(held), nil
}
