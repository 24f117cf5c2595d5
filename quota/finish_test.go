package quota

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestFinishSettlesAndReleases: Finish frees the slot and settles the tokens together,
// once, however often it (or Settle and Release) is called.
func TestFinishSettlesAndReleases(t *testing.T) {
	eachBackend(t, func(t *testing.T, l Limiter) {
		ctx := context.Background()
		key := Limit{Scope: keyA, TPM: 1000, MaxParallel: 1}
		d := mustAllow(t, l, one(800, key))
		mustDeny(t, l, one(300, key), keyA, KindTokens)
		for range 2 {
			if err := l.Finish(ctx, d, 100); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Settle(ctx, d, 900); err != nil {
			t.Fatal(err)
		}
		if err := l.Release(ctx, d); err != nil {
			t.Fatal(err)
		}
		next := mustAllow(t, l, one(800, key))
		if next.Tokens.Remaining != 100 {
			t.Errorf("%d tokens remaining after finishing at 100 and taking 800, want 100", next.Tokens.Remaining)
		}
		mustDeny(t, l, one(0, key), keyA, KindConcurrency)
	})
}

// TestCancelGivesEverythingBack: a request refused by its budget right after Allow
// consumes nothing: not its request, not its tokens, not its slot.
func TestCancelGivesEverythingBack(t *testing.T) {
	eachBackend(t, func(t *testing.T, l Limiter) {
		ctx := context.Background()
		key := Limit{Scope: keyA, RPM: 2, TPM: 1000, MaxParallel: 1}
		project := Limit{Scope: ProjectScope("acme"), RPM: 5}
		for range 3 {
			d := mustAllow(t, l, one(600, key, project))
			if err := l.Cancel(ctx, d); err != nil {
				t.Fatal(err)
			}
			if err := l.Finish(ctx, d, 600); err != nil { // a late Finish changes nothing
				t.Fatal(err)
			}
		}
		d := mustAllow(t, l, one(600, key, project))
		if d.Requests.Remaining != 1 || d.Tokens.Remaining != 400 {
			t.Errorf("after three cancelled requests: requests %+v tokens %+v; want 1 and 400 remaining", d.Requests, d.Tokens)
		}
	})
}

// roundTrips counts the network round trips of a go-redis client: one per command sent
// alone, one per pipeline.
type roundTrips struct{ n atomic.Int64 }

func (*roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// TestRedisRoundTrips: a request with every kind of limit costs one round trip to be
// allowed and one to be finished; a cancelled one, one more instead of the finish.
func TestRedisRoundTrips(t *testing.T) {
	r, c := newTestRedis(t, RedisOptions{})
	hook := &roundTrips{}
	c.AddHook(hook)
	ctx := context.Background()
	key := Limit{Scope: keyA, RPM: 100, TPM: 100000, MaxParallel: 10}
	mustAllow(t, r, one(10, key)) // loads the script after a Redis restart
	hook.n.Store(0)
	for range 10 {
		d := mustAllow(t, r, one(500, key, Limit{Scope: ProjectScope("acme"), TPM: 100000}))
		if err := r.Finish(ctx, d, 300); err != nil {
			t.Fatal(err)
		}
	}
	if n := hook.n.Load(); n != 20 {
		t.Errorf("%d round trips for 10 requests allowed and finished, want 20", n)
	}
	hook.n.Store(0)
	d := mustAllow(t, r, one(500, key))
	if err := r.Cancel(ctx, d); err != nil {
		t.Fatal(err)
	}
	if n := hook.n.Load(); n != 2 {
		t.Errorf("%d round trips to allow and cancel, want 2", n)
	}
}
