package quota

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// redisOnClock returns a Redis limiter whose scripts read time from c instead of the
// Redis server's clock.
func redisOnClock(t *testing.T, c *clock) *Redis {
	// Slots never expire during the test, as they do not in process; a script error fails
	// the test rather than falling back to the in-process limiter.
	r, _ := newTestRedis(t, RedisOptions{SlotTTL: 1000 * time.Hour, Policy: FailClosed})
	r.scriptNow = c.now
	return r
}

// outcome is what a client sees of one decision.
func outcome(d *Decision, err error) string {
	if d == nil {
		return fmt.Sprintf("no decision, error %v", err)
	}
	s := fmt.Sprintf("allowed %v requests %+v tokens %+v", d.Allowed, d.Requests, d.Tokens)
	if d.Denied != nil {
		s += fmt.Sprintf(" denied %+v", *d.Denied)
	}
	return s
}

// TestRedisMatchesInProcess drives the Redis limiter and the in-process one through the
// same random sequence of requests, finishes, cancels and clock moves (across bucket and
// window edges, and idle spells), and checks that every decision reads the same: allowed
// or denied, by which limit, used, remaining, reset and retry-after.
func TestRedisMatchesInProcess(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	c := newClock()
	c.advance(time.Duration(rng.IntN(1000)) * time.Millisecond)
	local, shared := NewLocal(c.now), redisOnClock(t, c)
	ls := []Limiter{local, shared}
	scopes := []Limit{
		{Scope: keyA, RPM: 10, TPM: 6000, MaxParallel: 5},
		{Scope: ProjectScope("acme"), RPM: 14, TPM: 9000},
		{Scope: ModelScope("gpt-4o"), TPM: 5000},
	}
	type pair struct{ ds [2]*Decision }
	var pending []pair
	var log []string
	fail := func(format string, args ...any) {
		t.Helper()
		from := max(len(log)-15, 0)
		for _, l := range log[from:] {
			t.Log(l)
		}
		t.Fatalf(format, args...)
	}
	ctx := context.Background()
	seen := map[string]int{}
	for step := range 3000 {
		switch op := rng.IntN(20); {
		case op < 9: // a request under a random subset of the scopes
			var lims []Limit
			for _, s := range scopes {
				if rng.IntN(3) > 0 {
					lims = append(lims, s)
				}
			}
			est := []int64{0, 0, 1, 50, 300, 900, 6000}[rng.IntN(7)]
			req := one(est, lims...)
			log = append(log, fmt.Sprintf("step %d at %v: allow est %d %v", step, c.now().Format("15:04:05.000"), est, lims))
			var p pair
			var got [2]string
			for i, l := range ls {
				d, err := l.Allow(ctx, req)
				got[i] = outcome(d, err)
				if d != nil && d.Local {
					fail("step %d: the Redis decision was taken in process", step)
				}
				p.ds[i] = d
			}
			if got[0] != got[1] {
				fail("step %d: decisions differ:\n in process %s\n Redis      %s", step, got[0], got[1])
			}
			if p.ds[0] != nil && p.ds[0].Allowed {
				pending = append(pending, p)
				seen["allowed"]++
			} else if p.ds[0] != nil && p.ds[0].Denied != nil {
				seen[string(p.ds[0].Denied.Kind)]++
			}
		case op < 15 && len(pending) > 0: // a request ends, is settled, released or cancelled
			k := rng.IntN(len(pending))
			p := pending[k]
			pending = append(pending[:k], pending[k+1:]...)
			actual := []int64{0, 10, 300, 900, 2500}[rng.IntN(5)]
			how := rng.IntN(4)
			log = append(log, fmt.Sprintf("step %d at %v: finish %d with %d tokens", step, c.now().Format("15:04:05.000"), how, actual))
			for i, l := range ls {
				var err error
				switch how {
				case 0:
					err = l.Finish(ctx, p.ds[i], actual)
				case 1:
					err = l.Cancel(ctx, p.ds[i])
				case 2:
					err = l.Settle(ctx, p.ds[i], actual)
				case 3:
					err = l.Release(ctx, p.ds[i])
				}
				if err != nil {
					fail("step %d: finish: %v", step, err)
				}
			}
			if how == 2 { // still to be released
				pending = append(pending, p)
			}
		default: // time passes
			var d time.Duration
			switch p := rng.IntN(100); {
			case p < 50:
				d = time.Duration(rng.IntN(300)) * time.Millisecond
			case p < 90:
				d = time.Duration(rng.IntN(3000)) * time.Millisecond
			case p < 98: // to just before or after a request leaves the window
				d = 59*time.Second + time.Duration(rng.IntN(3000))*time.Millisecond
			default: // idle for up to a few windows
				d = time.Duration(rng.IntN(200)) * time.Second
			}
			log = append(log, fmt.Sprintf("step %d: advance %v", step, d))
			c.advance(d)
		}
	}
	// The sequence must have exercised every outcome for the comparison to mean much.
	for _, k := range []string{"allowed", string(KindRequests), string(KindTokens), string(KindConcurrency)} {
		if seen[k] < 10 {
			t.Errorf("only %d decisions %s in the sequence: %v", seen[k], k, seen)
		}
	}
	t.Logf("outcomes: %v", seen)
}

// TestRedisWindowWithoutSummary: a window hash holding only buckets (as finish.lua leaves
// it when the window had expired) is counted from its buckets, stale ones excluded.
func TestRedisWindowWithoutSummary(t *testing.T) {
	c := newClock()
	c.advance(250 * time.Millisecond)
	r := redisOnClock(t, c)
	b := bucketOf(c.now().UnixMilli())
	key := r.key(keyA, requestsKind)
	ctx := context.Background()
	err := r.rdb.HSet(ctx, key, strconv.FormatInt(b-70, 10), 9, strconv.FormatInt(b-10, 10), 5,
		strconv.FormatInt(b-3, 10), 0).Err()
	if err != nil {
		t.Fatal(err)
	}
	r.rdb.PExpire(ctx, key, time.Minute)
	lim := Limit{Scope: keyA, RPM: 7}
	d := mustAllow(t, r, one(0, lim))
	if d.Requests.Remaining != 1 || d.Requests.Reset != 60750*time.Millisecond {
		t.Errorf("requests %+v, want 1 remaining (5 counted 10s ago and this one) and reset in 60.75s", d.Requests)
	}
	mustAllow(t, r, one(0, lim))
	c.advance(50 * time.Second)
	d = mustDeny(t, r, one(0, lim), keyA, KindRequests)
	if d.Denied.Used != 7 || d.Denied.RetryAfter != 750*time.Millisecond {
		t.Errorf("denial %+v, want 7 used and retry in 0.75s, when the 5 leave the window", *d.Denied)
	}
	c.advance(time.Second)
	d = mustAllow(t, r, one(0, lim))
	if d.Requests.Remaining != 4 {
		t.Errorf("requests %+v, want 4 remaining once the 5 left", d.Requests)
	}
}

// TestResetAfterNewestCancelled: when the newest request of a window is cancelled, the
// window resets when the one before it leaves, in process and in Redis alike.
func TestResetAfterNewestCancelled(t *testing.T) {
	for _, name := range []string{"inprocess", "redis"} {
		t.Run(name, func(t *testing.T) {
			c := newClock()
			var l Limiter = NewLocal(c.now)
			if name == "redis" {
				l = redisOnClock(t, c)
			}
			lim := Limit{Scope: keyA, TPM: 1000}
			mustAllow(t, l, one(100, lim))
			c.advance(2 * time.Second)
			if err := l.Cancel(context.Background(), mustAllow(t, l, one(200, lim))); err != nil {
				t.Fatal(err)
			}
			c.advance(time.Second)
			if d := mustAllow(t, l, one(0, lim)); d.Tokens.Reset != 58*time.Second || d.Tokens.Remaining != 900 {
				t.Errorf("tokens %+v, want 900 remaining and reset in 58s", d.Tokens)
			}
			if d := mustDeny(t, l, one(1000, lim), keyA, KindTokens); d.Tokens.Reset != 58*time.Second {
				t.Errorf("tokens %+v on denial, want reset in 58s", d.Tokens)
			}
		})
	}
}
