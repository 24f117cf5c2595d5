package router_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/router"
)

// TestFallbacks checks that failures move to other targets, then to fallback models in
// order, and that Meta counts every attempt.
func TestFallbacks(t *testing.T) {
	cases := []struct {
		name         string
		primary      int // failing targets of the primary model
		retries      int
		wantAttempts int
	}{
		{"500 from the primary falls back", 1, 0, 2},
		{"retries try the other target first", 2, 1, 3},
		{"retries beyond the targets reuse them", 1, 2, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var deps []*router.Deployment
			var fails []*fakellm.Server
			for i := range tc.primary {
				f, base := fake(t, fakellm.Options{ErrorRate: 1})
				fails = append(fails, f)
				deps = append(deps, deployment(t, "primary"+string(rune('a'+i)), base, nil, upstreamKey))
			}
			backup, backupURL := fake(t, fakellm.Options{})
			primary := route("primary", tc.retries, deps...)
			primary.Fallbacks = []string{"missing", "backup"}
			r := router.New([]*router.Route{primary, route("backup", 0, deployment(t, "backup", backupURL, nil, upstreamKey))},
				router.Options{})
			resp, meta, err := complete(t, r, "primary")
			if err != nil || len(resp.Body) == 0 {
				t.Fatalf("got %v", err)
			}
			if meta.Provider != "backup" || meta.Attempts != tc.wantAttempts {
				t.Fatalf("served by %s after %d attempts, want backup after %d", meta.Provider, meta.Attempts, tc.wantAttempts)
			}
			total := 0
			for _, f := range fails {
				if f.Count() == 0 {
					t.Error("a primary target was never tried")
				}
				total += int(f.Count())
			}
			if total != tc.wantAttempts-1 || backup.Count() != 1 {
				t.Fatalf("primary upstreams saw %d, backup %d", total, backup.Count())
			}
		})
	}
}

// TestRetryAfter checks 429 handling: the key cools down for retry-after, a sibling key
// serves at once, a lone key is retried after the wait, and a wait longer than the
// deadline answers 429 with the upstream's retry-after.
func TestRetryAfter(t *testing.T) {
	rateLimited := map[string]string{"X-Fake-Error-Status": "429"} // fakellm sends retry-after: 1

	t.Run("a lone key waits for retry-after", func(t *testing.T) {
		up, base := newSwitchable(t)
		up.set(func(_ string, n int) map[string]string {
			if n == 1 {
				return rateLimited
			}
			return nil
		})
		r := router.New([]*router.Route{route("m", 2, deployment(t, "up", base, nil, upstreamKey))}, router.Options{})
		start := time.Now()
		_, meta, err := complete(t, r, "m")
		if err != nil || meta.Attempts != 2 {
			t.Fatalf("got %v after %d attempts, want success after 2", err, meta.Attempts)
		}
		if waited := time.Since(start); waited < time.Second {
			t.Fatalf("retried after %v, before the upstream's retry-after of 1s", waited)
		}
	})

	t.Run("a sibling key serves during the cooldown", func(t *testing.T) {
		up, base := newSwitchable(t)
		up.set(func(key string, _ int) map[string]string {
			if key == upstreamKey {
				return rateLimited
			}
			return nil
		})
		rt := route("m", 1, deployment(t, "up", base, nil, upstreamKey, siblingKey))
		r := router.New([]*router.Route{rt}, router.Options{Rand: rand.New(rand.NewPCG(1, 1))})
		for i := range 10 {
			if _, _, err := complete(t, r, "m"); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
		}
		if got := keyRequests(up.Server, upstreamKey); got != 1 {
			t.Fatalf("the rate-limited key got %d requests during its cooldown, want 1", got)
		}
		if ks := rt.Targets[0].Health().Keys; ks[0].State != "cooldown" || ks[0].CooldownUntil == nil || ks[1].State != "active" {
			t.Fatalf("key health: %+v", ks)
		}
	})

	t.Run("a wait beyond the deadline answers 429", func(t *testing.T) {
		up, base := newSwitchable(t)
		up.set(always(rateLimited))
		rt := route("m", 2, deployment(t, "up", base, nil, upstreamKey))
		rt.Timeout = 500 * time.Millisecond
		r := router.New([]*router.Route{rt}, router.Options{})
		_, meta, err := complete(t, r, "m")
		e := apierr.From(err)
		if e.Status != 429 || e.RetryAfter <= 0 || meta.Attempts != 1 || up.Count() != 1 {
			t.Fatalf("got %v (retry-after %v) after %d attempts, want 429 with retry-after after 1", err, e.RetryAfter, meta.Attempts)
		}
	})
}

// keyEvents records the KeyHealth hook's calls.
type keyEvents struct {
	mu     sync.Mutex
	events []string
}

func (k *keyEvents) Disable(_ context.Context, deployment, credentialID string, status int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.events = append(k.events, deployment+" "+credentialID+" "+string(rune('0'+status/100))+"xx")
}

// TestRevokedKeyDisabled checks that a key the upstream rejects (401 or 403) is
// disabled once, reported to the hook, and that its sibling serves.
func TestRevokedKeyDisabled(t *testing.T) {
	for _, st := range []string{"401", "403"} {
		t.Run(st, func(t *testing.T) {
			up, base := newSwitchable(t)
			up.set(func(key string, _ int) map[string]string {
				if key == upstreamKey {
					return map[string]string{"X-Fake-Error-Status": st}
				}
				return nil
			})
			hook := &keyEvents{}
			rt := route("m", 1, deployment(t, "up", base, nil, upstreamKey, siblingKey))
			r := router.New([]*router.Route{rt}, router.Options{KeyHealth: hook, Rand: rand.New(rand.NewPCG(5, 5))})
			for i := range 20 {
				if _, _, err := complete(t, r, "m"); err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
			}
			if got := keyRequests(up.Server, upstreamKey); got != 1 {
				t.Fatalf("the rejected key was sent %d times, want once", got)
			}
			if len(hook.events) != 1 || hook.events[0] != "up up#0 4xx" {
				t.Fatalf("hook calls: %v", hook.events)
			}
			h := rt.Targets[0].Health()
			if h.Keys[0].State != "disabled" || h.Keys[1].State != "active" || h.State != router.StateClosed {
				t.Fatalf("health: %+v", h)
			}
		})
	}

	t.Run("every key rejected", func(t *testing.T) {
		_, base := fake(t, fakellm.Options{Keys: []string{"sk-the-only-valid-key"}})
		r := router.New([]*router.Route{route("m", 3, deployment(t, "up", base, nil, upstreamKey, siblingKey))}, router.Options{})
		_, meta, err := complete(t, r, "m")
		if code(err) != "upstream_error" || meta.Attempts != 2 {
			t.Fatalf("got %v after %d attempts, want upstream_error after 2", err, meta.Attempts)
		}
		if _, _, err := complete(t, r, "m"); code(err) != "no_healthy_deployment" {
			t.Fatalf("with every key disabled: %v", err)
		}
	})
}
