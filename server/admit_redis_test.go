package server

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/quota"
	"github.com/tollgate-llm/tollgate/store"
)

// TestRedisRoundTripsPerRequest: with limits and budgets in Redis, an admitted request
// costs one round trip to be let in and one to be settled (DESIGN.md: one script call
// per decision).
func TestRedisRoundTripsPerRequest(t *testing.T) {
	g := newRedisGateway(t)
	if code, _ := g.chat(t); code != http.StatusOK { // seeds the budget counter
		t.Fatalf("status %d", code)
	}
	g.trips.n.Store(0)
	for range 10 {
		if code, ec := g.chat(t); code != http.StatusOK {
			t.Fatalf("status %d %s", code, ec)
		}
	}
	if n := g.trips.n.Load(); n != 20 {
		t.Errorf("%d Redis round trips for 10 requests, want 20 (one to admit, one to settle)", n)
	}
}

// TestBudgetRefusalKeepsNoRateLimit: a request its budget refuses consumes nothing of
// its rate limits, though both were decided in the same round trip.
func TestBudgetRefusalKeepsNoRateLimit(t *testing.T) {
	g := newRedisGateway(t)
	g.acc.set(quota.Limit{Scope: g.keyScope, RPM: 2, TPM: 100000, MaxParallel: 1},
		billing.Budget{Scope: billing.ScopeKey, Subject: "k", Limit: 0, Period: billing.PeriodMonth})
	for range 3 {
		if code, ec := g.chat(t); code != http.StatusTooManyRequests || ec != "budget_exceeded" {
			t.Fatalf("over budget: %d %s, want 429 budget_exceeded", code, ec)
		}
	}
	g.acc.set(quota.Limit{Scope: g.keyScope, RPM: 2, TPM: 100000, MaxParallel: 1},
		billing.Budget{Scope: billing.ScopeKey, Subject: "k", Limit: 1 << 60, Period: billing.PeriodMonth})
	for i := range 3 {
		code, ec := g.chat(t)
		if want := http.StatusOK; i == 2 {
			if code != http.StatusTooManyRequests || ec != "rate_limit_exceeded" {
				t.Fatalf("third request at rpm=2: %d %s, want 429 rate_limit_exceeded", code, ec)
			}
		} else if code != want {
			t.Fatalf("request %d after three refused by budget at rpm=2: %d %s, want 200", i+1, code, ec)
		}
	}
}

// TestRateLimitRefusalKeepsNoBudget: a request its rate limits refuse holds and spends
// nothing of its budget.
func TestRateLimitRefusalKeepsNoBudget(t *testing.T) {
	g := newRedisGateway(t)
	budget := billing.Budget{Scope: billing.ScopeKey, Subject: "k", Limit: 1 << 60, Period: billing.PeriodMonth}
	g.acc.set(quota.Limit{Scope: g.keyScope, RPM: 1}, budget)
	if code, ec := g.chat(t); code != http.StatusOK {
		t.Fatalf("first request: %d %s", code, ec)
	}
	ctx := context.Background()
	before, err := g.ledger.State(ctx, budget)
	if err != nil || before.Spent <= 0 {
		t.Fatalf("budget after one request: %+v, %v", before, err)
	}
	for range 3 {
		if code, ec := g.chat(t); code != http.StatusTooManyRequests || ec != "rate_limit_exceeded" {
			t.Fatalf("over rpm=1: %d %s, want 429 rate_limit_exceeded", code, ec)
		}
	}
	after, err := g.ledger.State(ctx, budget)
	if err != nil || after.Spent != before.Spent || after.Reserved != 0 {
		t.Fatalf("budget after three rate-limited requests: spent %v held %v (%v); want spent %v held 0",
			after.Spent, after.Reserved, err, before.Spent)
	}
}

// TestRedisLostItsScripts: after a Redis restart the scripts are gone from its cache; a
// request is admitted and settled all the same, and leaves nothing held.
func TestRedisLostItsScripts(t *testing.T) {
	g := newRedisGateway(t)
	budget := billing.Budget{Scope: billing.ScopeKey, Subject: "k", Limit: 1 << 60, Period: billing.PeriodMonth}
	g.acc.set(quota.Limit{Scope: g.keyScope, TPM: 100000, MaxParallel: 1}, budget)
	if code, ec := g.chat(t); code != http.StatusOK {
		t.Fatalf("first request: %d %s", code, ec)
	}
	g.trips.noScript.Store(2) // the admission's pipeline and the settlement's
	for range 2 {
		if code, ec := g.chat(t); code != http.StatusOK {
			t.Fatalf("after the scripts were lost: %d %s, want 200 (max_parallel=1: the slot must be free)", code, ec)
		}
	}
	if g.limiter.Degraded() {
		t.Error("the limiter took lost scripts for an outage")
	}
	st, err := g.ledger.State(context.Background(), budget)
	if err != nil || st.Reserved != 0 || st.Spent <= 0 {
		t.Fatalf("budget: spent %v held %v (%v); want spent, nothing held", st.Spent, st.Reserved, err)
	}
}

// TestTimedOutPipelineStillReservesBudget: when the admission's shared pipeline fails
// without a reply from Redis (its deadline passed while the gateway was too busy to
// send it), the rate limiter applies its policy (fail_open: in-process limits) and the
// budget makes its own call rather than refusing with budget_unavailable.
func TestTimedOutPipelineStillReservesBudget(t *testing.T) {
	g := newRedisGateway(t)
	budget := billing.Budget{Scope: billing.ScopeKey, Subject: "k", Limit: 1 << 60, Period: billing.PeriodMonth}
	g.acc.set(quota.Limit{Scope: g.keyScope, TPM: 100000, MaxParallel: 1}, budget)
	g.trips.timeouts.Store(1) // the admission's pipeline
	if code, ec := g.chat(t); code != http.StatusOK {
		t.Fatalf("after the admission pipeline timed out: %d %s, want 200", code, ec)
	}
	st, err := g.ledger.State(context.Background(), budget)
	if err != nil || st.Reserved != 0 || st.Spent <= 0 {
		t.Fatalf("budget: spent %v held %v (%v); want the request spent, nothing held", st.Spent, st.Reserved, err)
	}
}

// oneByOne hides the shared round trips of a Redis limiter and billing service and
// settles and releases separately: how the server admitted and settled before (five
// round trips per request), for BenchmarkAdmissionRedis.
type oneByOne struct {
	l *quota.Redis
	b *billing.Service
}

func (o oneByOne) Allow(ctx context.Context, r quota.Request) (*quota.Decision, error) {
	return o.l.Allow(ctx, r)
}

func (o oneByOne) Finish(ctx context.Context, d *quota.Decision, tokens int64) error {
	if err := o.l.Settle(ctx, d, tokens); err != nil {
		return err
	}
	return o.l.Release(ctx, d)
}

func (o oneByOne) Cancel(ctx context.Context, d *quota.Decision) error { return o.l.Cancel(ctx, d) }

type oneByOneBiller struct{ oneByOne }

func (o oneByOneBiller) Begin(ctx context.Context, r billing.Request) (*billing.Ticket, error) {
	return o.b.Begin(ctx, r)
}

func (o oneByOneBiller) Finish(ctx context.Context, t *billing.Ticket, out billing.Outcome) (store.SpendRow, error) {
	return o.b.Finish(ctx, t, out)
}

// BenchmarkAdmissionRedis is one non-streamed request through the server with a key
// limit (rpm, tpm, max_parallel) and a budget in Redis, interleaved in one loop so that
// both see the same load: "one-by-one" as before (five sequential round trips),
// "shared" as now (two), and a bare PING for scale.
func BenchmarkAdmissionRedis(b *testing.B) {
	g := newRedisGateway(b)
	shared := g.h
	o := oneByOne{l: g.limiter, b: g.service}
	g.serve(b, AccountDeps{Limiter: o, Biller: oneByOneBiller{o}, Accounts: g.acc})
	separate := g.h
	ctx := context.Background()
	var tSep, tShared, tPing time.Duration
	var tripsSep, tripsShared int64
	one := func(h http.Handler, d *time.Duration, trips *int64) {
		g.h = h
		n0, t0 := g.trips.n.Load(), time.Now()
		if code, ec := g.chat(b); code != http.StatusOK {
			b.Fatalf("status %d %s", code, ec)
		}
		*d += time.Since(t0)
		*trips += g.trips.n.Load() - n0
	}
	one(shared, new(time.Duration), new(int64)) // seeds the budget counter
	b.ReportAllocs()
	for b.Loop() {
		one(separate, &tSep, &tripsSep)
		one(shared, &tShared, &tripsShared)
		t0 := time.Now()
		if err := g.rdb.Ping(ctx).Err(); err != nil {
			b.Fatal(err)
		}
		tPing += time.Since(t0)
	}
	n := float64(b.N)
	b.ReportMetric(float64(tSep.Nanoseconds())/n, "one-by-one-ns/req")
	b.ReportMetric(float64(tShared.Nanoseconds())/n, "shared-ns/req")
	b.ReportMetric(float64(tPing.Nanoseconds())/n, "ping-ns")
	b.ReportMetric(float64(tShared)/float64(tSep), "shared/one-by-one")
	b.ReportMetric(float64(tripsSep)/n, "one-by-one-trips/req")
	b.ReportMetric(float64(tripsShared)/n, "shared-trips/req")
}
