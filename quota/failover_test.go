package quota

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/internal/tcpproxy"
)

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

// outage is a limiter whose Redis link runs through a proxy the test can cut, and a
// second replica whose link stays up.
type outage struct {
	proxy  *tcpproxy.Proxy
	l      *Redis
	other  *Redis
	reg    *prometheus.Registry
	logs   *lockedBuffer
	direct *redis.Client
}

func newOutage(t *testing.T, policy Policy) *outage {
	url := redisURL(t)
	ropts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	o := &outage{proxy: tcpproxy.Start(t, ropts.Addr), reg: prometheus.NewRegistry(), logs: &lockedBuffer{}}
	ropts.Addr, ropts.ContextTimeoutEnabled = o.proxy.Addr(), true
	proxied := redis.NewClient(ropts)
	t.Cleanup(func() { proxied.Close() })
	o.direct = newRedisClient(t, url)
	opts := RedisOptions{Prefix: testPrefix(t, o.direct), Policy: policy, Registerer: o.reg,
		ProbeMin: 20 * time.Millisecond, ProbeMax: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(o.logs, nil))}
	if o.l, err = NewRedis(proxied, opts); err != nil {
		t.Fatal(err)
	}
	opts.Registerer, opts.Logger = nil, nil
	if o.other, err = NewRedis(o.direct, opts); err != nil {
		t.Fatal(err)
	}
	return o
}

func (o *outage) degradedGauge() float64 {
	return testutil.ToFloat64(o.l.health.gauge)
}

// TestFailOpen: with Redis gone, a replica keeps serving under its own in-process
// limits, says so once in its log, on Degraded and in metrics; when Redis is back the
// shared limits resume, without a new limiter.
func TestFailOpen(t *testing.T) {
	o := newOutage(t, FailOpen)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { _ = o.l.Run(ctx) }()
	req := one(0, Limit{Scope: keyA, RPM: 10})
	for range 4 {
		if d := mustAllow(t, o.l, req); d.Local {
			t.Fatal("decision taken in-process while Redis is up")
		}
	}

	o.proxy.Cut()
	allowed, denied := burst(t, 30, req, o.l)
	if len(allowed) != 10 || len(denied) != 20 {
		t.Fatalf("Redis down, rpm=10: %d allowed, %d denied; want this replica's own 10 and 20", len(allowed), len(denied))
	}
	for _, d := range allowed {
		if !d.Local {
			t.Fatal("a decision claims Redis while Redis is cut")
		}
	}
	held := mustAllow(t, o.l, one(0, Limit{Scope: "key:slots", MaxParallel: 1}))
	if !o.l.Degraded() || o.degradedGauge() != 1 {
		t.Errorf("Degraded() = %v, gauge %v; want true and 1", o.l.Degraded(), o.degradedGauge())
	}
	if n := o.logs.count("Redis unreachable"); n != 1 {
		t.Errorf("%d log lines about the outage, want 1:\n%s", n, o.logs.b.String())
	}

	o.proxy.Restore()
	waitFor(t, 30*time.Second, "recovery", func() bool { return !o.l.Degraded() })
	if o.degradedGauge() != 0 || o.logs.count("Redis reachable again") != 1 {
		t.Errorf("after recovery: gauge %v, log:\n%s", o.degradedGauge(), o.logs.b.String())
	}
	// Shared again: 4 of 10 were used through Redis before the cut; two replicas get 6.
	allowed, _ = burst(t, 20, req, o.l, o.other)
	if len(allowed) != 6 {
		t.Errorf("after recovery, over two replicas: %d allowed, want the shared 6", len(allowed))
	}
	// A slot taken in-process during the outage is released in-process.
	if err := o.l.Release(context.Background(), held); err != nil {
		t.Fatal(err)
	}
	if d := mustAllow(t, o.l.local, one(0, Limit{Scope: "key:slots", MaxParallel: 1})); !d.Allowed {
		t.Error("the in-process slot was not freed")
	}
}

// TestFailClosed: with Redis gone, limited requests are refused with a 503 and
// unlimited ones pass; when Redis is back, requests pass again, even with nothing
// running Run (the requests themselves probe).
func TestFailClosed(t *testing.T) {
	o := newOutage(t, FailClosed)
	req := one(0, Limit{Scope: keyA, RPM: 100})
	mustAllow(t, o.l, req)

	o.proxy.Cut()
	var unavailable atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			d, err := o.l.Allow(context.Background(), req)
			var ae *apierr.Error
			if errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable && ae.Type == "service_unavailable" && d == nil {
				unavailable.Add(1)
				return
			}
			t.Errorf("Redis down under fail_closed: decision %+v, error %v; want a 503", d, err)
		})
	}
	wg.Wait()
	if unavailable.Load() != 20 || !o.l.Degraded() {
		t.Errorf("%d of 20 answered 503; degraded %v", unavailable.Load(), o.l.Degraded())
	}
	mustAllow(t, o.l, one(0)) // nothing to limit, nothing to ask Redis

	o.proxy.Restore()
	waitFor(t, 30*time.Second, "recovery through requests", func() bool {
		d, err := o.l.Allow(context.Background(), req)
		return err == nil && d.Allowed && !d.Local
	})
	if o.l.Degraded() || o.degradedGauge() != 0 {
		t.Error("still degraded after a request went through Redis")
	}
}

// TestFailOpenUnderLoad cuts Redis while requests are flowing: under fail_open not one
// request fails, some are decided in-process, and Redis takes over again after restore.
func TestFailOpenUnderLoad(t *testing.T) {
	o := newOutage(t, FailOpen)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { _ = o.l.Run(ctx) }()
	req := one(10, Limit{Scope: keyA, RPM: 1 << 40, TPM: 1 << 40, MaxParallel: 1 << 20})
	var local, shared, failed atomic.Int64
	load, endLoad := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for load.Err() == nil {
				d, err := o.l.Allow(context.Background(), req)
				if err != nil {
					failed.Add(1)
					t.Errorf("under fail_open: %v", err)
					return
				}
				if d.Local {
					local.Add(1)
				} else {
					shared.Add(1)
				}
				_ = o.l.Settle(context.Background(), d, 5)
				_ = o.l.Release(context.Background(), d)
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	o.proxy.Cut()
	// Wait for the calls under way at the cut to fail: go-redis retries them first.
	waitFor(t, 30*time.Second, "decisions in-process during the cut", func() bool { return local.Load() > 0 })
	o.proxy.Restore()
	waitFor(t, 30*time.Second, "recovery under load", func() bool { return !o.l.Degraded() })
	before := shared.Load()
	waitFor(t, 30*time.Second, "shared decisions after recovery", func() bool { return shared.Load() > before })
	endLoad()
	wg.Wait()
	if local.Load() == 0 || failed.Load() != 0 {
		t.Errorf("%d local, %d shared, %d failed decisions; want some local and none failed",
			local.Load(), shared.Load(), failed.Load())
	}
}

// TestSlotReleasedDuringOutageIsFreedOnRecovery: a slot taken through Redis whose
// request ends while Redis is cut is freed once Redis is back, instead of blocking the
// scope's max_parallel on every replica until it expires.
func TestSlotReleasedDuringOutageIsFreedOnRecovery(t *testing.T) {
	o := newOutage(t, FailOpen)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { _ = o.l.Run(ctx) }()
	req := one(0, Limit{Scope: "key:orphan", MaxParallel: 1})
	d := mustAllow(t, o.l, req)
	mustDeny(t, o.other, req, "key:orphan", KindConcurrency)

	o.proxy.Cut()
	if err := o.l.Release(context.Background(), d); err == nil {
		t.Fatal("a release through a cut Redis reported success")
	}
	o.proxy.Restore()
	waitFor(t, 30*time.Second, "recovery", func() bool { return !o.l.Degraded() })
	if d := mustAllow(t, o.other, req); d.Local {
		t.Fatal("the other replica decided in-process")
	}
}
