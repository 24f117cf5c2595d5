package quota

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
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
// decision, one per finish (settle and release). While Redis is unreachable it applies
// its Policy. AllowWith and FinishWith let another component's Redis call (the budget
// ledger's) share the round trip.
type Redis struct {
	rdb     redis.UniversalClient
	ping    func(context.Context) error
	opts    RedisOptions
	local   *Local
	health  *health
	replica string
	seq     atomic.Uint64
	// scriptNow, when set, is the clock of the scripts instead of Redis's: tests compare
	// the Redis limiter with the in-process one at the same instants.
	scriptNow func() time.Time

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
	r := &Redis{rdb: client, opts: opts, local: NewLocal(opts.Now), replica: hex.EncodeToString(id[:]),
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
	return r.AllowWith(ctx, req, nil)
}

// AllowWith is Allow with rider sent in the same round trip as the decision's script,
// when the decision goes to Redis at all; otherwise rider is left to make its own call.
// The two are independent: a denied request's rider has run all the same, and the
// caller undoes whichever one's success the other's refusal makes moot.
func (r *Redis) AllowWith(ctx context.Context, req Request, rider Rider) (*Decision, error) {
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
	d, err := r.allowShared(ctx, scopes, req.EstimatedTokens, rider)
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
func (r *Redis) allowShared(ctx context.Context, scopes []Limit, est int64, rider Rider) (*Decision, error) {
	est = max(est, 0)
	keys := make([]string, 0, 3*len(scopes))
	args := make([]any, 0, 3+3*len(scopes))
	member := ""
	if hasParallelLimit(scopes) {
		member = r.replica + "-" + strconv.FormatUint(r.seq.Add(1), 10)
	}
	args = append(args, est, member, r.opts.SlotTTL.Milliseconds())
	for _, s := range scopes {
		keys = append(keys, r.key(s.Scope, requestsKind), r.key(s.Scope, tokensKind), r.key(s.Scope, "c"))
		args = append(args, s.RPM, s.TPM, s.MaxParallel)
	}
	if r.scriptNow != nil {
		args = append(args, r.scriptNow().UnixMilli())
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	reply, err := r.run(ctx, allowScript, keys, args, rider).Int64Slice()
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

// The kinds of the window keys. A window's layout changed in version 2 (summary fields
// beside the buckets); new names keep a replica of either version from reading the
// other's layout during a rolling upgrade, at the cost of counting apart until it ends.
const (
	requestsKind = "r2"
	tokensKind   = "t2"
)

// key names one counter of a scope; every key shares the hash tag {Prefix}, so that one
// script can touch all the scopes of a decision, in Redis Cluster too.
func (r *Redis) key(scope, kind string) string {
	return "{" + r.opts.Prefix + "}:" + scope + ":" + kind
}

// run runs script on keys and args; with a rider, in one pipeline with the rider's
// commands. The pipeline sends EVALSHA: after Redis lost its script cache (a restart),
// the script is sent again with EVAL, which also loads it for the next calls.
func (r *Redis) run(ctx context.Context, script *redis.Script, keys []string, args []any, rider Rider) *redis.Cmd {
	if rider == nil {
		return script.Run(ctx, r.rdb, keys, args...)
	}
	pipe := r.rdb.Pipeline()
	cmd := script.EvalSha(ctx, pipe, keys, args...)
	rider.Queue(ctx, r.rdb, pipe)
	// Each command carries its own error; the rider reads its own.
	_, _ = pipe.Exec(ctx)
	if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
		return script.Eval(ctx, r.rdb, keys, args...)
	}
	return cmd
}
