package quota

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestWindowSlides checks the rolling minute on a test clock: capacity comes back 60 to
// 61 seconds after it was used, bucket by bucket, and Retry-After says when.
func TestWindowSlides(t *testing.T) {
	c := newClock()
	l := NewLocal(c.now)
	req := one(0, Limit{Scope: keyA, RPM: 2})
	mustAllow(t, l, req)
	c.advance(10 * time.Second)
	mustAllow(t, l, req)
	c.advance(20 * time.Second)
	d := mustDeny(t, l, req, keyA, KindRequests)
	if d.Denied.RetryAfter != 31*time.Second {
		t.Errorf("retry-after %v, want 31s (the first request leaves the window 61s after it)", d.Denied.RetryAfter)
	}
	if d.Requests.Reset != 41*time.Second || d.Requests.Remaining != 0 {
		t.Errorf("requests window %+v, want 0 remaining and reset in 41s", d.Requests)
	}
	c.advance(30 * time.Second) // 60s after the first request: still counted
	mustDeny(t, l, req, keyA, KindRequests)
	c.advance(time.Second)
	mustAllow(t, l, req)
	mustDeny(t, l, req, keyA, KindRequests)
	c.advance(2 * time.Minute)
	for range 2 {
		mustAllow(t, l, req)
	}
}

// TestNoRollingMinuteOverLimit drives requests at random-looking offsets and checks that
// no 60-second span ever admits more than the limit.
func TestNoRollingMinuteOverLimit(t *testing.T) {
	c := newClock()
	l := NewLocal(c.now)
	req := one(0, Limit{Scope: keyA, RPM: 7})
	var admitted []time.Time
	for i := range 600 {
		c.advance(time.Duration(137+(i*7919)%900) * time.Millisecond)
		if d, err := l.Allow(context.Background(), req); err == nil && d.Allowed {
			admitted = append(admitted, c.now())
		}
	}
	for i := range admitted {
		n := 0
		for _, a := range admitted[i:] {
			if a.Sub(admitted[i]) < time.Minute {
				n++
			}
		}
		if n > 7 {
			t.Fatalf("%d requests admitted within a minute from %v; limit 7", n, admitted[i])
		}
	}
	if len(admitted) < 7*4 {
		t.Errorf("only %d admitted over %v at rpm=7", len(admitted), admitted[len(admitted)-1].Sub(admitted[0]))
	}
}

// TestSettleAfterWindow checks that a stream outlasting the window is still accounted:
// its extra tokens count now, and an unused estimate is not refunded twice.
func TestSettleAfterWindow(t *testing.T) {
	c := newClock()
	l := NewLocal(c.now)
	key := Limit{Scope: keyA, TPM: 1000}
	long := mustAllow(t, l, one(400, key))
	c.advance(90 * time.Second) // the reservation has left the window
	if err := l.Settle(context.Background(), long, 700); err != nil {
		t.Fatal(err)
	}
	d := mustAllow(t, l, one(0, key))
	if d.Tokens.Remaining != 700 {
		t.Errorf("after a 700-token answer to a 400-token estimate, expired: %d remaining, want 700", d.Tokens.Remaining)
	}
	short := mustAllow(t, l, one(600, key))
	c.advance(90 * time.Second)
	if err := l.Settle(context.Background(), short, 10); err != nil {
		t.Fatal(err)
	}
	if d := mustAllow(t, l, one(0, key)); d.Tokens.Remaining != 1000 {
		t.Errorf("refund of an expired reservation: %d remaining, want 1000", d.Tokens.Remaining)
	}
}

// TestIdleScopesAreForgotten checks that memory is bounded by the active scopes.
func TestIdleScopesAreForgotten(t *testing.T) {
	c := newClock()
	l := NewLocal(c.now)
	held := mustAllow(t, l, one(0, Limit{Scope: "key:held", MaxParallel: 1}))
	for i := range 1000 {
		mustAllow(t, l, one(10, Limit{Scope: fmt.Sprintf("key:%d", i), RPM: 5, TPM: 100}))
	}
	if n := l.Scopes(); n != 1001 {
		t.Fatalf("%d scopes held, want 1001", n)
	}
	c.advance(3 * time.Minute)
	mustAllow(t, l, one(0, Limit{Scope: "key:new", RPM: 1}))
	if n := l.Scopes(); n != 2 {
		t.Errorf("%d scopes held after 3 idle minutes, want 2 (one in flight, one new)", n)
	}
	mustDeny(t, l, one(0, Limit{Scope: "key:held", MaxParallel: 1}), "key:held", KindConcurrency)
	if err := l.Release(context.Background(), held); err != nil {
		t.Fatal(err)
	}
	mustAllow(t, l, one(0, Limit{Scope: "key:held", MaxParallel: 1}))
}

// TestDuplicateScopesChargeOnce checks that a scope listed twice is counted once, under
// the tighter of its limits.
func TestDuplicateScopesChargeOnce(t *testing.T) {
	l := NewLocal(newClock().now)
	req := one(0, Limit{Scope: keyA, RPM: 3}, Limit{Scope: keyA, RPM: 10})
	for range 3 {
		mustAllow(t, l, req)
	}
	mustDeny(t, l, req, keyA, KindRequests)
}
