package quota

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// replicas returns n Redis limiters sharing one prefix, each with its own client, as n
// gateway replicas would be.
func replicas(t *testing.T, n int, opts RedisOptions) []Limiter {
	first, _ := newTestRedis(t, opts)
	opts.Prefix = first.opts.Prefix
	ls := []Limiter{first}
	for range n - 1 {
		r, err := NewRedis(newRedisClient(t, redisURL(t)), opts)
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, r)
	}
	return ls
}

// TestReplicasShareRequestsPerMinute: 300 concurrent requests over three replicas for a
// key with rpm=100 admit exactly 100.
func TestReplicasShareRequestsPerMinute(t *testing.T) {
	ls := replicas(t, 3, RedisOptions{})
	allowed, denied := burst(t, 300, one(0, Limit{Scope: keyA, RPM: 100}), ls...)
	for _, d := range allowed {
		if d.Local {
			t.Fatal("a decision was taken in-process: Redis did not answer in time")
		}
	}
	if len(allowed) != 100 || len(denied) != 200 {
		t.Fatalf("300 requests over 3 replicas at rpm=100: %d allowed, %d denied; want 100 and 200", len(allowed), len(denied))
	}
}

// TestReplicasShareMaxParallel: with max_parallel=5, 300 requests over three replicas,
// each retrying until admitted, never have more than 5 in flight, and all get served.
func TestReplicasShareMaxParallel(t *testing.T) {
	ls := replicas(t, 3, RedisOptions{})
	req := one(0, Limit{Scope: keyA, MaxParallel: 5})
	var inFlight, peak, served atomic.Int64
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := range 300 {
		l := ls[i%3]
		wg.Go(func() {
			for ctx.Err() == nil {
				d, err := l.Allow(ctx, req)
				if err != nil {
					time.Sleep(2 * time.Millisecond)
					continue
				}
				n := inFlight.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(3 * time.Millisecond) // the upstream call
				inFlight.Add(-1)
				if err := l.Release(ctx, d); err != nil {
					t.Error(err)
				}
				served.Add(1)
				return
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 5 {
		t.Errorf("%d requests in flight at once across replicas; max_parallel is 5", p)
	} else if p < 5 {
		t.Errorf("at most %d in flight under heavy load; max_parallel=5 should be usable", p)
	}
	if n := served.Load(); n != 300 {
		t.Errorf("%d of 300 requests served; released slots must be reused", n)
	}
}

// TestDeadReplicaSlotExpires: a replica that dies mid-request never releases its slot,
// and stops refreshing it; the slot frees itself after SlotTTL. While the replica lives,
// Run keeps the slot of a long request.
func TestDeadReplicaSlotExpires(t *testing.T) {
	ttl := 700 * time.Millisecond
	ls := replicas(t, 2, RedisOptions{SlotTTL: ttl})
	dying, other := ls[0].(*Redis), ls[1]
	req := one(0, Limit{Scope: keyA, MaxParallel: 1})

	ctx, die := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = dying.Run(ctx) }()
	mustAllow(t, dying, req) // a long stream, never released

	time.Sleep(3 * ttl)
	mustDeny(t, other, req, keyA, KindConcurrency) // kept alive by its live replica

	die()
	<-done
	waitFor(t, 30*time.Second, "the dead replica's slot to expire", func() bool {
		d, err := other.Allow(context.Background(), req)
		return err == nil && d.Allowed
	})
}

// waitFor polls cond every 50ms until it holds, failing the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting %v for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRedisKeysShareOneSlot: every key carries the same hash tag, so that one script
// may touch all the scopes of a decision in Redis Cluster.
func TestRedisKeysShareOneSlot(t *testing.T) {
	r := &Redis{opts: RedisOptions{Prefix: "tg"}}
	for _, scope := range []string{keyA, ProjectScope("a{b}"), ModelScope("gpt-4o")} {
		for _, kind := range []string{"r", "t", "c"} {
			if k := r.key(scope, kind); !strings.HasPrefix(k, "{tg}:") {
				t.Errorf("key %q does not start with the hash tag {tg}", k)
			}
		}
	}
	if _, err := NewRedis(nil, RedisOptions{Prefix: "a}b"}); err == nil {
		t.Error("a prefix with a brace was accepted")
	}
	if _, err := NewRedis(nil, RedisOptions{Policy: "fail_sometimes"}); err == nil {
		t.Error("an unknown policy was accepted")
	}
}
