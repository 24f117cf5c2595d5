package quota

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

var (
	//go:embed lua/allow.lua
	allowSrc string
	//go:embed lua/finish.lua
	finishSrc string
	//go:embed lua/keepalive.lua
	keepaliveSrc string

	allowScript     = redis.NewScript(allowSrc)
	finishScript    = redis.NewScript(finishSrc)
	keepaliveScript = redis.NewScript(keepaliveSrc)
)

// Policy is what the Redis limiter does while Redis is unreachable.
type Policy string

// The policies.
const (
	// FailOpen falls back to the in-process limiter of each replica.
	FailOpen Policy = "fail_open"
	// FailClosed answers every limited request 503 service_unavailable.
	FailClosed Policy = "fail_closed"
)

// RedisOptions configure a Redis limiter. The zero value is usable.
type RedisOptions struct {
	// Prefix starts every key and is its cluster hash tag: all keys live in the slot of
	// "{Prefix}". Default "tollgate". It must not contain '{' or '}'.
	Prefix string
	// Policy applies while Redis is unreachable. Default FailOpen.
	Policy Policy
	// Timeout bounds each Redis call, including the wait for a pooled connection; a call
	// that takes longer counts as Redis unreachable. Default 1s. It only bounds network
	// reads when the client was built with ContextTimeoutEnabled.
	Timeout time.Duration
	// SlotTTL is how long a concurrency slot outlives its last refresh by Run, which is
	// how soon the slots of a replica that died are freed. Default 1m.
	SlotTTL time.Duration
	// ProbeMin and ProbeMax bound the backoff between probes while Redis is unreachable.
	// Defaults 100ms and 5s.
	ProbeMin, ProbeMax time.Duration
	// Logger receives one line per transition between shared and degraded modes.
	Logger *slog.Logger
	// Registerer, when set, receives the limiter's metrics.
	Registerer prometheus.Registerer
	// Now is the clock of the fallback limiter and of the probe backoff. Default time.Now.
	Now func() time.Time
}

func (o *RedisOptions) setDefaults() error {
	if o.Prefix == "" {
		o.Prefix = "tollgate"
	}
	if strings.ContainsAny(o.Prefix, "{}") {
		return errors.New("quota: redis prefix must not contain '{' or '}'")
	}
	switch o.Policy {
	case "":
		o.Policy = FailOpen
	case FailOpen, FailClosed:
	default:
		return fmt.Errorf("quota: redis policy %q is not %s or %s", o.Policy, FailOpen, FailClosed)
	}
	o.Timeout = cmp0(o.Timeout, time.Second)
	o.SlotTTL = cmp0(o.SlotTTL, time.Minute)
	o.ProbeMin = cmp0(o.ProbeMin, 100*time.Millisecond)
	o.ProbeMax = max(cmp0(o.ProbeMax, 5*time.Second), o.ProbeMin)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

func cmp0(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}

// Redis is the Limiter shared by every replica through Redis: one Lua script per
// decision, one per settle or release. While Redis is unreachable it applies its Policy.
type Redis struct {
	client  redis.Scripter
	ping    func(context.Context) error
	opts    RedisOptions
	local   *Local
	health  *health
	replica string
	seq     atomic.Uint64

	mu   sync.Mutex
	live map[string][]string // slot member -> the slot zsets it is held in
	// orphans are slots whose release failed while Redis was unreachable; Run frees
	// them once it answers again, rather than leaving them to expire after SlotTTL.
	orphans map[string][]string
}

var _ Limiter = (*Redis)(nil)

// NewRedis returns a limiter on client. Build the client with ContextTimeoutEnabled so
// that Timeout bounds every call, and start Run for the life of the server.
func NewRedis(client redis.UniversalClient, opts RedisOptions) (*Redis, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	var id [6]byte
	_, _ = rand.Read(id[:])
	r := &Redis{client: client, opts: opts, local: NewLocal(opts.Now), replica: hex.EncodeToString(id[:]),
		live: map[string][]string{}, orphans: map[string][]string{}}
	r.ping = func(ctx context.Context) error { return client.Ping(ctx).Err() }
	h, err := newHealth(opts)
	if err != nil {
		return nil, err
	}
	r.health = h
	return r, nil
}

// Degraded reports whether Redis is currently unreachable, so that limits are per
// replica (fail_open) or requests are refused (fail_closed), for /readyz and metrics.
func (r *Redis) Degraded() bool { return r.health.degraded.Load() }

// Allow implements Limiter.
func (r *Redis) Allow(ctx context.Context, req Request) (*Decision, error) {
	scopes := normalize(req.Limits)
	if len(scopes) == 0 {
		return &Decision{Allowed: true}, nil
	}
	probe := false
	if r.health.degraded.Load() {
		if probe = r.health.startProbe(); !probe {
			return r.fallback(ctx, req, errDegraded)
		}
	}
	d, err := r.allowShared(ctx, scopes, req.EstimatedTokens)
	if err != nil {
		if ctx.Err() != nil {
			if probe {
				r.health.endProbe()
			}
			return nil, ctx.Err()
		}
		r.health.failed(err, probe)
		return r.fallback(ctx, req, err)
	}
	r.health.ok()
	r.health.count("redis", d)
	if d.Denied != nil {
		return d, denialError(d.Denied)
	}
	return d, nil
}

var errDegraded = errors.New("redis unreachable")

// fallback decides without Redis, according to the policy.
func (r *Redis) fallback(ctx context.Context, req Request, cause error) (*Decision, error) {
	if r.opts.Policy == FailClosed {
		r.health.decisions.WithLabelValues("redis", "unavailable").Inc()
		return nil, unavailableError(cause)
	}
	d, err := r.local.Allow(ctx, req)
	d.Local = true
	r.health.count("local", d)
	return d, err
}

// allowShared runs the allow script and turns its reply into a decision.
func (r *Redis) allowShared(ctx context.Context, scopes []Limit, est int64) (*Decision, error) {
	est = max(est, 0)
	keys := make([]string, 0, 3*len(scopes))
	args := make([]any, 0, 3+3*len(scopes))
	member := ""
	if hasParallelLimit(scopes) {
		member = r.replica + "-" + strconv.FormatUint(r.seq.Add(1), 10)
	}
	args = append(args, est, member, r.opts.SlotTTL.Milliseconds())
	for _, s := range scopes {
		keys = append(keys, r.key(s.Scope, "r"), r.key(s.Scope, "t"), r.key(s.Scope, "c"))
		args = append(args, s.RPM, s.TPM, s.MaxParallel)
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	reply, err := allowScript.Run(ctx, r.client, keys, args...).Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("redis allow: %w", err)
	}
	if len(reply) != 8+5*len(scopes) {
		return nil, fmt.Errorf("redis allow: reply of %d values for %d scopes", len(reply), len(scopes))
	}
	us := make([]usage, len(scopes))
	for i := range scopes {
		v := reply[8+5*i:]
		us[i] = usage{requests: v[0], resetRequests: ms(v[1]), tokens: v[2], resetTokens: ms(v[3]), inFlight: v[4]}
	}
	var den *Denial
	if reply[0] == 0 {
		kinds := [...]Kind{KindRequests, KindTokens, KindConcurrency}
		i, k := reply[2]-1, reply[3]-1
		if i < 0 || int(i) >= len(scopes) || k < 0 || k > 2 {
			return nil, fmt.Errorf("redis allow: denial of scope %d kind %d", i, k)
		}
		den = &Denial{Scope: scopes[i].Scope, Kind: kinds[k], Limit: reply[4], Used: reply[5], Requested: reply[6],
			RetryAfter: ms(reply[7])}
	}
	d := newDecision(scopes, us, den)
	if den == nil {
		d.estimate, d.bucket, d.owner, d.slot = est, reply[1], r, member
		r.hold(d)
	}
	return d, nil
}

func ms(v int64) time.Duration { return time.Duration(v) * time.Millisecond }

// key names one counter of a scope; every key shares the hash tag {Prefix}, so that one
// script can touch all the scopes of a decision, in Redis Cluster too.
func (r *Redis) key(scope, kind string) string {
	return "{" + r.opts.Prefix + "}:" + scope + ":" + kind
}

// Settle implements Limiter.
func (r *Redis) Settle(ctx context.Context, d *Decision, actualTokens int64) error {
	return settleDecision(ctx, d, actualTokens)
}

// Release implements Limiter.
func (r *Redis) Release(ctx context.Context, d *Decision) error {
	return releaseDecision(ctx, d)
}

// finish runs the finish script for a decision taken through Redis. It ignores the
// cancellation of ctx.
func (r *Redis) finish(ctx context.Context, d *Decision, delta int64, settle, release bool) error {
	var keys []string
	if settle {
		for _, s := range d.scopes {
			if s.TPM > 0 {
				keys = append(keys, r.key(s.Scope, "t"))
			}
		}
	}
	nsettle := len(keys)
	var slots []string
	if release {
		slots = r.unhold(d)
		keys = append(keys, slots...)
	}
	if len(keys) == 0 {
		return nil
	}
	// A request's context is often cancelled by the time it is settled (the client went
	// away); the accounting must happen anyway.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.Timeout)
	defer cancel()
	if err := finishScript.Run(ctx, r.client, keys, nsettle, d.bucket, delta, d.slot).Err(); err != nil {
		r.health.failed(err, false)
		r.orphan(d.slot, slots)
		return fmt.Errorf("redis settle/release: %w", err)
	}
	return nil
}

// orphan records a slot whose release failed, for releaseOrphans.
func (r *Redis) orphan(member string, zsets []string) {
	if len(zsets) == 0 {
		return
	}
	r.mu.Lock()
	r.orphans[member] = zsets
	r.mu.Unlock()
}

// releaseOrphans frees the slots whose release failed during an outage. Until it does,
// they count against max_parallel in Redis although their requests have ended.
func (r *Redis) releaseOrphans(ctx context.Context) {
	r.mu.Lock()
	if len(r.orphans) == 0 {
		r.mu.Unlock()
		return
	}
	orphans := maps.Clone(r.orphans)
	r.mu.Unlock()
	for member, zsets := range orphans {
		cctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
		err := finishScript.Run(cctx, r.client, zsets, 0, 0, 0, member).Err()
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				r.health.failed(err, false)
			}
			return
		}
		r.mu.Lock()
		delete(r.orphans, member)
		r.mu.Unlock()
	}
}

// hold records a slot this replica holds, for Run to keep alive.
func (r *Redis) hold(d *Decision) {
	if d.slot == "" {
		return
	}
	var keys []string
	for _, s := range d.scopes {
		if s.MaxParallel > 0 {
			keys = append(keys, r.key(s.Scope, "c"))
		}
	}
	r.mu.Lock()
	r.live[d.slot] = keys
	r.mu.Unlock()
}

// unhold forgets a held slot and returns its zsets. It forgets even when the release
// then fails, so that the slot expires by itself instead of being kept alive.
func (r *Redis) unhold(d *Decision) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := r.live[d.slot]
	delete(r.live, d.slot)
	return keys
}
