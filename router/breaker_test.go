package router_test

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/router"
)

// TestDeadTargetSkipped sends requests to a model with a dead and a healthy target
// under every strategy: every request is answered, and once the breaker opened the dead
// upstream sees no more requests, so it sees fewer than the client sent.
func TestDeadTargetSkipped(t *testing.T) {
	cases := []struct {
		strategy string
		dead     router.Target // weight, priority, price of the dead target
	}{
		{"weighted", router.Target{Weight: 3}},
		{"round_robin", router.Target{}},
		{"least_latency", router.Target{}},
		{"least_busy", router.Target{}},
		{"lowest_cost", router.Target{Price: &router.Price{InputPerMTok: 1}}},
		{"priority", router.Target{Priority: 0}},
	}
	const sent = 40
	for _, tc := range cases {
		t.Run(tc.strategy, func(t *testing.T) {
			dead, deadURL := fake(t, fakellm.Options{ErrorRate: 1})
			good, goodURL := fake(t, fakellm.Options{})
			rt := route("m", 1, deployment(t, "dead", deadURL, nil, upstreamKey), deployment(t, "good", goodURL, nil, upstreamKey))
			rt.Strategy = tc.strategy
			rt.Targets[0].Weight, rt.Targets[0].Price = tc.dead.Weight, tc.dead.Price
			rt.Targets[1].Priority, rt.Targets[1].Price = 1, &router.Price{InputPerMTok: 1e9}
			r := router.New([]*router.Route{rt}, router.Options{Rand: rand.New(rand.NewPCG(3, 4))})
			for i := range sent {
				if _, meta, err := complete(t, r, "m"); err != nil || meta.Provider != "good" {
					t.Fatalf("request %d: %v (served by %q)", i, err, meta.Provider)
				}
			}
			if got := dead.Count(); got != 5 {
				t.Errorf("the dead upstream saw %d requests of %d; want 5, the failures that open its breaker", got, sent)
			}
			if got := good.Count(); got != sent {
				t.Errorf("the healthy upstream saw %d requests, want %d", got, sent)
			}
			h := rt.Targets[0].Health()
			if h.State != router.StateOpen || h.RetryAt == nil || h.Failures != 5 || h.InFlight != 0 {
				t.Errorf("dead target health: %+v", h)
			}
		})
	}
}

// TestBreakerHalfOpens checks the open → half-open → closed (or open again) cycle with
// a short open period, and that an open breaker spares the upstream.
func TestBreakerHalfOpens(t *testing.T) {
	for _, recovers := range []bool{true, false} {
		name := "recovers"
		if !recovers {
			name = "still failing"
		}
		t.Run(name, func(t *testing.T) {
			up, base := newSwitchable(t)
			rt := route("m", 0, deployment(t, "up", base, nil, upstreamKey))
			r := router.New([]*router.Route{rt}, router.Options{Breaker: fastBreakers})
			up.set(always(map[string]string{"X-Fake-Error-Status": "500"}))
			for i := range 3 {
				if _, _, err := complete(t, r, "m"); code(err) != "upstream_error" {
					t.Fatalf("failure %d: got %v, want upstream_error", i, err)
				}
			}
			_, meta, err := complete(t, r, "m")
			if status(err) != 503 || code(err) != "no_healthy_deployment" || meta.Attempts != 0 {
				t.Fatalf("with the breaker open: %v after %d attempts, want 503 no_healthy_deployment", err, meta.Attempts)
			}
			if h := rt.Targets[0].Health(); h.State != router.StateOpen || up.Count() != 3 {
				t.Fatalf("state %s after %d upstream requests, want open after 3", h.State, up.Count())
			}
			if recovers {
				up.set(nil)
			}
			time.Sleep(200 * time.Millisecond) // past the 150ms open period
			_, _, err = complete(t, r, "m")
			want, wantState := 200, router.StateClosed
			if !recovers {
				want, wantState = 502, router.StateOpen
			}
			if status(err) != want || up.Count() != 4 {
				t.Fatalf("probe: %v (%d upstream requests), want status %d after 4", err, up.Count(), want)
			}
			if h := rt.Targets[0].Health(); h.State != wantState {
				t.Fatalf("after the probe the breaker is %s, want %s", h.State, wantState)
			}
			if _, _, err = complete(t, r, "m"); recovers != (err == nil) {
				t.Fatalf("after the probe: %v", err)
			}
		})
	}
}

// TestFailureRatioOpens checks the ratio rule: a target failing every other request
// never fails five times in a row, but opens once enough requests failed.
func TestFailureRatioOpens(t *testing.T) {
	up, base := newSwitchable(t)
	up.set(func(_ string, n int) map[string]string {
		if n%2 == 0 {
			return map[string]string{"X-Fake-Error-Status": "503"}
		}
		return nil
	})
	rt := route("m", 0, deployment(t, "up", base, nil, upstreamKey))
	r := router.New([]*router.Route{rt}, router.Options{Breaker: router.BreakerSettings{MinRequests: 10, FailureRatio: 0.5}})
	for range 10 {
		complete(t, r, "m")
	}
	if h := rt.Targets[0].Health(); h.State != router.StateOpen {
		t.Fatalf("after 10 requests half failed the breaker is %s, want open", h.State)
	}
	if _, _, err := complete(t, r, "m"); code(err) != "no_healthy_deployment" || up.Count() != 10 {
		t.Fatalf("got %v after %d upstream requests", err, up.Count())
	}
}

// TestClientErrorsNotCounted checks that 4xx client errors reach the client as they
// are, without retries, and never open the breaker.
func TestClientErrorsNotCounted(t *testing.T) {
	for _, st := range []string{"400", "404", "413", "422"} {
		t.Run(st, func(t *testing.T) {
			up, base := newSwitchable(t)
			other, otherURL := fake(t, fakellm.Options{})
			up.set(always(map[string]string{"X-Fake-Error-Status": st}))
			rt := route("m", 2, deployment(t, "up", base, nil, upstreamKey), deployment(t, "other", otherURL, nil, upstreamKey))
			rt.Strategy = "priority"
			rt.Targets[1].Priority = 1
			r := router.New([]*router.Route{rt}, router.Options{Breaker: fastBreakers})
			for range 6 {
				_, meta, err := complete(t, r, "m")
				if got := status(err); strconv.Itoa(got) != st || meta.Attempts != 1 {
					t.Fatalf("got status %d after %d attempts, want %s after 1", got, meta.Attempts, st)
				}
			}
			if h := rt.Targets[0].Health(); h.State != router.StateClosed || h.Failures != 0 || other.Count() != 0 {
				t.Fatalf("client errors counted: %+v, other upstream saw %d", h, other.Count())
			}
		})
	}
}
