package quota

import (
	"context"
	"testing"
	"time"
)

// benchRequest is a typical decision: a key, its project and a model limit, none near
// their limits so that every decision is an admission.
func benchRequest(parallel bool) Request {
	key := Limit{Scope: keyA, RPM: 1 << 40, TPM: 1 << 50}
	if parallel {
		key.MaxParallel = 1 << 30
	}
	return Request{RequestID: "bench", EstimatedTokens: 500, Limits: []Limit{key,
		{Scope: ProjectScope("acme"), RPM: 1 << 40, TPM: 1 << 50}, {Scope: ModelScope("gpt-4o"), TPM: 1 << 50}}}
}

// lifecycle is what the server did for one request: allow, then settle and release.
func lifecycle(b *testing.B, l Limiter, req Request) {
	ctx := context.Background()
	d, err := l.Allow(ctx, req)
	if err != nil || !d.Allowed {
		b.Fatalf("Allow: %+v, %v", d, err)
	}
	if err := l.Settle(ctx, d, 300); err != nil {
		b.Fatal(err)
	}
	if err := l.Release(ctx, d); err != nil {
		b.Fatal(err)
	}
}

func benchLimiter(b *testing.B, l Limiter) {
	b.Run("allow", func(b *testing.B) {
		req := benchRequest(false)
		b.ReportAllocs()
		for b.Loop() {
			if d, err := l.Allow(context.Background(), req); err != nil || !d.Allowed {
				b.Fatalf("Allow: %+v, %v", d, err)
			}
		}
	})
	b.Run("allow-settle-release", func(b *testing.B) {
		req := benchRequest(true)
		b.ReportAllocs()
		for b.Loop() {
			lifecycle(b, l, req)
		}
	})
	// allow-finish is what the server does now: Finish settles and releases in one call.
	b.Run("allow-finish", func(b *testing.B) {
		req := benchRequest(true)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			d, err := l.Allow(ctx, req)
			if err != nil || !d.Allowed {
				b.Fatalf("Allow: %+v, %v", d, err)
			}
			if err := l.Finish(ctx, d, 300); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAllowInProcess(b *testing.B) { benchLimiter(b, NewLocal(nil)) }

// BenchmarkAllowRedis also measures a bare PING, the round trip a decision cannot avoid.
func BenchmarkAllowRedis(b *testing.B) {
	r, c := newTestRedis(b, RedisOptions{})
	benchLimiter(b, r)
	b.Run("ping-baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := c.Ping(context.Background()).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAllowAddedLatency interleaves in-process and Redis decisions in one loop, so
// that both see the same machine load, and reports each one's mean latency, the ratio
// and the latency Redis adds to a decision.
func BenchmarkAllowAddedLatency(b *testing.B) {
	r, _ := newTestRedis(b, RedisOptions{})
	local := NewLocal(nil)
	req := benchRequest(false)
	ctx := context.Background()
	var tl, tr time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := local.Allow(ctx, req); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if d, err := r.Allow(ctx, req); err != nil || d.Local {
			b.Fatalf("Redis Allow: %+v, %v", d, err)
		}
		tr += time.Since(t1)
		tl += t1.Sub(t0)
	}
	n := float64(b.N)
	b.ReportMetric(float64(tl.Nanoseconds())/n, "inprocess-ns/decision")
	b.ReportMetric(float64(tr.Nanoseconds())/n, "redis-ns/decision")
	b.ReportMetric(float64(tr)/float64(tl), "redis/inprocess")
	b.ReportMetric(float64((tr-tl).Microseconds())/n, "added-µs/decision")
}

// BenchmarkFinishRedis interleaves, in one loop, a request finished with Settle and
// Release (two scripts, as before) and one finished with Finish (one script), and a
// PING, so that all three see the same machine load and the same window sizes.
func BenchmarkFinishRedis(b *testing.B) {
	r, c := newTestRedis(b, RedisOptions{})
	req := benchRequest(true)
	ctx := context.Background()
	var tSep, tOne, tPing time.Duration
	for b.Loop() {
		t0 := time.Now()
		lifecycle(b, r, req)
		t1 := time.Now()
		d, err := r.Allow(ctx, req)
		if err != nil || !d.Allowed {
			b.Fatalf("Allow: %+v, %v", d, err)
		}
		if err := r.Finish(ctx, d, 300); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if err := c.Ping(ctx).Err(); err != nil {
			b.Fatal(err)
		}
		tSep, tOne, tPing = tSep+t1.Sub(t0), tOne+t2.Sub(t1), tPing+time.Since(t2)
	}
	n := float64(b.N)
	b.ReportMetric(float64(tSep.Nanoseconds())/n, "settle+release-ns/req")
	b.ReportMetric(float64(tOne.Nanoseconds())/n, "finish-ns/req")
	b.ReportMetric(float64(tPing.Nanoseconds())/n, "ping-ns")
	b.ReportMetric(float64(tOne)/float64(tSep), "finish/settle+release")
}
