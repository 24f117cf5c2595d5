package quota

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// health tracks whether Redis answers, paces the probes while it does not, and reports
// transitions: one log line each way, a gauge and counters.
type health struct {
	opts     RedisOptions
	degraded atomic.Bool
	probing  atomic.Bool

	mu      sync.Mutex
	next    time.Time // no probe before this
	backoff time.Duration
	since   time.Time

	gauge     prometheus.Gauge
	errors    prometheus.Counter
	decisions *prometheus.CounterVec
}

func newHealth(opts RedisOptions) (*health, error) {
	h := &health{opts: opts}
	h.gauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "tollgate_ratelimit_degraded",
		Help: "1 while Redis is unreachable and rate limits are per replica (fail_open) or refused (fail_closed).",
	})
	h.errors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tollgate_ratelimit_redis_errors_total", Help: "Rate-limit calls to Redis that failed.",
	})
	h.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tollgate_ratelimit_decisions_total",
		Help: "Rate-limit decisions by backend (redis, local) and result (allowed, requests, tokens, concurrency, unavailable).",
	}, []string{"backend", "result"})
	var err error
	if h.gauge, err = register(opts.Registerer, h.gauge); err != nil {
		return nil, err
	}
	if h.errors, err = register(opts.Registerer, h.errors); err != nil {
		return nil, err
	}
	if h.decisions, err = register(opts.Registerer, h.decisions); err != nil {
		return nil, err
	}
	return h, nil
}

// register registers c, or returns the collector already registered under its name.
func register[T prometheus.Collector](reg prometheus.Registerer, c T) (T, error) {
	if reg == nil {
		return c, nil
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if ex, ok := are.ExistingCollector.(T); ok {
				return ex, nil
			}
		}
		return c, err
	}
	return c, nil
}

// count records a decision's outcome.
func (h *health) count(backend string, d *Decision) {
	result := "allowed"
	if d.Denied != nil {
		result = string(d.Denied.Kind)
	}
	h.decisions.WithLabelValues(backend, result).Inc()
}

// startProbe reports whether the caller may try Redis while degraded: once the backoff
// has passed, and by one caller at a time.
func (h *health) startProbe() bool {
	h.mu.Lock()
	due := !h.opts.Now().Before(h.next)
	h.mu.Unlock()
	return due && h.probing.CompareAndSwap(false, true)
}

// endProbe ends a probe that could not tell whether Redis is up.
func (h *health) endProbe() { h.probing.Store(false) }

// failed records a failed Redis call, entering degraded mode on the first. Only failed
// probes lengthen the backoff: calls that were already under way when Redis went away
// fail together and say nothing new.
func (h *health) failed(err error, probe bool) {
	h.errors.Inc()
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.opts.Now()
	switch {
	case h.degraded.CompareAndSwap(false, true):
		h.since, h.backoff = now, h.opts.ProbeMin
		h.gauge.Set(1)
		h.opts.Logger.Warn("rate limits: Redis unreachable", "policy", string(h.opts.Policy), "error", err)
	case probe:
		h.backoff = min(2*h.backoff, h.opts.ProbeMax)
	default:
		return
	}
	h.next = now.Add(h.backoff)
	h.probing.Store(false)
}

// ok records a successful Redis call, leaving degraded mode if in it.
func (h *health) ok() {
	if !h.degraded.Load() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.degraded.CompareAndSwap(true, false) {
		h.gauge.Set(0)
		h.opts.Logger.Info("rate limits: Redis reachable again; limits are shared",
			"degraded_for", h.opts.Now().Sub(h.since).Round(time.Millisecond).String())
	}
	h.probing.Store(false)
}

// Run keeps this replica's concurrency slots alive in Redis and, while Redis is
// unreachable, probes it with backoff so that shared limits resume without traffic;
// once it is back, Run frees the slots whose release failed meanwhile. It returns when
// ctx is done. The server owns the goroutine that runs it.
func (r *Redis) Run(ctx context.Context) error {
	keep := time.NewTicker(r.opts.SlotTTL / 3)
	defer keep.Stop()
	probe := time.NewTicker(r.opts.ProbeMin)
	defer probe.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-keep.C:
			r.safely(ctx, r.keepalive)
		case <-probe.C:
			switch {
			case !r.health.degraded.Load():
				r.safely(ctx, r.releaseOrphans)
			case r.health.startProbe():
				r.safely(ctx, r.probe)
			}
		}
	}
}

// safely runs one step of Run, turning a panic into a log line so that the loop lives on.
func (r *Redis) safely(ctx context.Context, step func(context.Context)) {
	defer func() {
		if v := recover(); v != nil {
			r.health.probing.Store(false)
			r.opts.Logger.Error("rate limits: panic in background step", "panic", v)
		}
	}()
	step(ctx)
}

func (r *Redis) probe(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	switch err := r.ping(cctx); {
	case err == nil:
		// Free the orphaned slots before shared limits resume, so that no decision
		// counts them.
		r.releaseOrphans(ctx)
		r.health.ok()
	case ctx.Err() != nil:
		r.health.endProbe()
	default:
		r.health.failed(err, true)
	}
}

// keepaliveBatch bounds the slots refreshed by one script call.
const keepaliveBatch = 256

// keepalive refreshes the expiry of every slot this replica holds.
func (r *Redis) keepalive(ctx context.Context) {
	if r.health.degraded.Load() {
		return
	}
	var keys, members []string
	r.mu.Lock()
	for member, zs := range r.live {
		for _, k := range zs {
			keys, members = append(keys, k), append(members, member)
		}
	}
	r.mu.Unlock()
	for start := 0; start < len(keys); start += keepaliveBatch {
		end := min(start+keepaliveBatch, len(keys))
		args := make([]any, 0, 1+end-start)
		args = append(args, r.opts.SlotTTL.Milliseconds())
		for _, m := range members[start:end] {
			args = append(args, m)
		}
		cctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
		err := keepaliveScript.Run(cctx, r.rdb, keys[start:end], args...).Err()
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				r.health.failed(err, false)
			}
			return
		}
	}
}
