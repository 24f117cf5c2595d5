package quota

import (
	"context"
	"strings"
	"testing"
	"time"
)

// backend builds a fresh, empty limiter of one kind for one test.
type backend struct {
	name string
	make func(t *testing.T) Limiter
}

// backends are the limiters every behaviour below must hold for. The Redis one skips
// without TOLLGATE_TEST_REDIS_URL.
var backends = []backend{
	{"local", func(*testing.T) Limiter { return NewLocal(newClock().now) }},
	{"redis", func(t *testing.T) Limiter { r, _ := newTestRedis(t, RedisOptions{}); return r }},
}

// eachBackend runs f as a subtest per backend.
func eachBackend(t *testing.T, f func(t *testing.T, l Limiter)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b.make(t)) })
	}
}

const keyA = "key:AbC123dEf456"

func TestBurstRequestsPerMinute(t *testing.T) {
	eachBackend(t, func(t *testing.T, l Limiter) {
		allowed, denied := burst(t, 100, one(0, Limit{Scope: keyA, RPM: 60}), l)
		if len(allowed) != 60 || len(denied) != 40 {
			t.Fatalf("burst of 100 at rpm=60: %d allowed, %d denied; want 60 and 40", len(allowed), len(denied))
		}
		e := denied[0]
		if e.Type != "requests" || e.Code != "rate_limit_exceeded" || e.RetryAfter <= 0 {
			t.Errorf("denial: type %q code %q retry-after %v", e.Type, e.Code, e.RetryAfter)
		}
		for _, want := range []string{"key AbC123dEf456", "requests per minute", "limit 60", "used 60", "Try again in "} {
			if !strings.Contains(e.Message, want) {
				t.Errorf("message %q does not say %q", e.Message, want)
			}
		}
		mustDeny(t, l, one(0, Limit{Scope: keyA, RPM: 60}), keyA, KindRequests)
	})
}

func TestBurstTokensPerMinute(t *testing.T) {
	eachBackend(t, func(t *testing.T, l Limiter) {
		allowed, denied := burst(t, 100, one(100, Limit{Scope: keyA, TPM: 6000}), l)
		if len(allowed) != 60 || len(denied) != 40 {
			t.Fatalf("burst of 100×100 tokens at tpm=6000: %d allowed, %d denied; want 60 and 40", len(allowed), len(denied))
		}
		if e := denied[0]; e.Type != "tokens" || e.RetryAfter <= 0 || !strings.Contains(e.Message, "tokens per minute") {
			t.Errorf("denial: type %q retry-after %v message %q", e.Type, e.RetryAfter, e.Message)
		}
		// A request that can never fit says so, and has no retry-after to wait for.
		d := mustDeny(t, l, one(7000, Limit{Scope: "key:other", TPM: 6000}), "key:other", KindTokens)
		if e := denialError(d.Denied); d.Denied.RetryAfter != 0 || !strings.Contains(e.Message, "Request too large") {
			t.Errorf("oversized request: retry-after %v, message %q", d.Denied.RetryAfter, e.Message)
		}
	})
}

func TestBurstMaxParallel(t *testing.T) {
	eachBackend(t, func(t *testing.T, l Limiter) {
		req := one(0, Limit{Scope: keyA, MaxParallel: 5})
		allowed, denied := burst(t, 100, req, l)
		if len(allowed) != 5 || len(denied) != 95 {
			t.Fatalf("burst of 100 at max_parallel=5: %d allowed, %d denied; want 5 and 95", len(allowed), len(denied))
		}
		mustDeny(t, l, req, keyA, KindConcurrency)
		ctx := context.Background()
		// Release frees exactly one slot, however often it is called.
		for range 3 {
			if err := l.Release(ctx, allowed[0]); err != nil {
				t.Fatal(err)
			}
		}
		mustAllow(t, l, req)
		mustDeny(t, l, req, keyA, KindConcurrency)
	})
}

// TestAllOrNothing checks that a request denied by one scope charges none of the others.
func TestAllOrNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, l Limiter) {
		key := Limit{Scope: keyA, RPM: 10, TPM: 10000, MaxParallel: 10}
		project := Limit{Scope: ProjectScope("acme"), RPM: 100, TPM: 100000}
		model := Limit{Scope: ModelScope("gpt-4o"), RPM: 3}
		for range 3 {
			mustAllow(t, l, one(100, key, project, model))
		}
		mustDeny(t, l, one(100, key, project, model), model.Scope, KindRequests)
		mustDeny(t, l, one(100, model, key, project), model.Scope, KindRequests)

		// The key and project saw 3 requests of 100 tokens, and 3 in flight; not 5.
		d := mustAllow(t, l, one(100, key))
		if d.Requests.Remaining != 10-4 || d.Tokens.Remaining != 10000-400 {
			t.Errorf("key after denials: %d requests, %d tokens remaining; want 6 and 9600",
				d.Requests.Remaining, d.Tokens.Remaining)
		}
		d = mustAllow(t, l, one(100, project))
		if d.Requests.Remaining != 100-4 || d.Tokens.Remaining != 100000-400 {
			t.Errorf("project after denials: %d requests, %d tokens remaining; want 96 and 99600",
				d.Requests.Remaining, d.Tokens.Remaining)
		}
		slots := one(0, Limit{Scope: keyA, MaxParallel: 5})
		mustAllow(t, l, slots) // 4 in flight (3 + this one); the denials took none
		mustDeny(t, l, slots, keyA, KindConcurrency)
	})
}

// TestHeadersReportTightest checks the headers' view: the scope with the fewest
// remaining, per kind, after counting this request.
func TestHeadersReportTightest(t *testing.T) {
	eachBackend(t, func(t *testing.T, l Limiter) {
		key := Limit{Scope: keyA, RPM: 60, TPM: 1000}
		project := Limit{Scope: ProjectScope("acme"), RPM: 5, TPM: 50000}
		d := mustAllow(t, l, one(300, key, project))
		if d.Requests.Limit != 5 || d.Requests.Remaining != 4 {
			t.Errorf("requests window %+v; want the project's 5 with 4 remaining", d.Requests)
		}
		if d.Tokens.Limit != 1000 || d.Tokens.Remaining != 700 {
			t.Errorf("tokens window %+v; want the key's 1000 with 700 remaining", d.Tokens)
		}
		for _, w := range []Window{d.Requests, d.Tokens} {
			if w.Reset <= 59*time.Second || w.Reset > 61*time.Second {
				t.Errorf("reset %v; want the time until this minute's use has left the window", w.Reset)
			}
		}
		none := mustAllow(t, l, one(300))
		if none.Requests.Limit != 0 || none.Tokens.Limit != 0 {
			t.Errorf("a request without limits reports %+v", none)
		}
	})
}

func TestSettleAdjustsTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, l Limiter) {
		ctx := context.Background()
		key := Limit{Scope: keyA, TPM: 1000}
		first := mustAllow(t, l, one(600, key))
		mustDeny(t, l, one(600, key), keyA, KindTokens)
		// The answer used 100 tokens: 900 are free again, and only once.
		for range 2 {
			if err := l.Settle(ctx, first, 100); err != nil {
				t.Fatal(err)
			}
		}
		second := mustAllow(t, l, one(600, key))
		if second.Tokens.Remaining != 1000-100-600 {
			t.Errorf("after settling 600 to 100: %d remaining, want 300", second.Tokens.Remaining)
		}
		// An answer longer than its estimate counts in full.
		if err := l.Settle(ctx, second, 850); err != nil {
			t.Fatal(err)
		}
		d := mustDeny(t, l, one(60, key), keyA, KindTokens)
		if d.Denied.Used != 950 {
			t.Errorf("after settling 600 to 850: used %d, want 950", d.Denied.Used)
		}
		mustAllow(t, l, one(50, key))
	})
}

// TestLimitChangeAppliesAtOnce checks that limits are read from each request, not kept.
func TestLimitChangeAppliesAtOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, l Limiter) {
		for range 5 {
			mustAllow(t, l, one(0, Limit{Scope: keyA, RPM: 10, MaxParallel: 10}))
		}
		mustDeny(t, l, one(0, Limit{Scope: keyA, RPM: 5}), keyA, KindRequests)
		mustDeny(t, l, one(0, Limit{Scope: keyA, MaxParallel: 5}), keyA, KindConcurrency)
		mustAllow(t, l, one(0, Limit{Scope: keyA, RPM: 7}))
		mustAllow(t, l, one(0, Limit{Scope: keyA})) // no limit at all: nothing to count
	})
}

// TestReleaseAfterClientGone: the request's context is cancelled when the client goes
// away, and its slot and tokens must still be accounted.
func TestReleaseAfterClientGone(t *testing.T) {
	eachBackend(t, func(t *testing.T, l Limiter) {
		key := Limit{Scope: keyA, TPM: 1000, MaxParallel: 1}
		d := mustAllow(t, l, one(800, key))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := l.Settle(ctx, d, 100); err != nil {
			t.Fatalf("Settle with a cancelled context: %v", err)
		}
		if err := l.Release(ctx, d); err != nil {
			t.Fatalf("Release with a cancelled context: %v", err)
		}
		if d := mustAllow(t, l, one(800, key)); d.Tokens.Remaining != 100 {
			t.Errorf("%d tokens remaining, want 100", d.Tokens.Remaining)
		}
	})
}
