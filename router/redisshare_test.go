package router_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate-llm/tollgate/router"
)

// shareClient returns a client of the test Redis and a key prefix of this test's own,
// whose keys are deleted at the end; it skips the test without Redis.
func shareClient(t *testing.T) (*redis.Client, string) {
	t.Helper()
	u := os.Getenv("TOLLGATE_TEST_REDIS_URL")
	if u == "" {
		t.Skip("set TOLLGATE_TEST_REDIS_URL=redis://127.0.0.1:6379/15 to run Redis tests (as .ci/run does)")
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	var b [6]byte
	rand.Read(b[:])
	prefix := "tgtest:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		rdb.Close()
	})
	return rdb, prefix
}

// sharedBreakers open after three failures and probe after a second: long enough for
// a replica that starts late to find the opening in Redis.
var sharedBreakers = router.BreakerSettings{ConsecutiveFailures: 3, OpenTimeout: time.Second}

// sharedRouter starts a router whose breaker openings go through Redis under prefix.
func sharedRouter(t *testing.T, rdb *redis.Client, prefix string, rt *router.Route) *router.Router {
	t.Helper()
	share := router.NewRedisShare(rdb, prefix, nil)
	r := router.New([]*router.Route{rt}, router.Options{Share: share, Breaker: sharedBreakers})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); share.Run(ctx, r) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

// TestRedisShare checks the whole cycle across two routers: an opening reaches a
// running replica and one that starts later (from the key), and the closing after a
// successful probe reaches the other replica too.
func TestRedisShare(t *testing.T) {
	rdb, prefix := shareClient(t)
	up, base := newSwitchable(t)
	d := deployment(t, "up", base, nil, upstreamKey)
	rtA, rtB, rtC := route("m", 0, d), route("m", 0, d), route("m", 0, d)
	a := sharedRouter(t, rdb, prefix, rtA)
	b := sharedRouter(t, rdb, prefix, rtB)
	time.Sleep(100 * time.Millisecond) // let the subscriptions start
	up.set(always(map[string]string{"X-Fake-Error-Status": "500"}))
	for range 3 {
		complete(t, a, "m")
	}
	waitFor(t, func() bool { h := rtB.Targets[0].Health(); return h.State == router.StateOpen && h.Remote },
		"the running replica to learn of the opening")
	if _, _, err := complete(t, b, "m"); code(err) != "no_healthy_deployment" || up.Count() != 3 {
		t.Fatalf("replica B: %v after %d upstream requests", err, up.Count())
	}
	sharedRouter(t, rdb, prefix, rtC)
	waitFor(t, func() bool { return rtC.Targets[0].Health().Remote }, "a new replica to read the opening from Redis")

	up.set(nil)
	time.Sleep(1100 * time.Millisecond) // A's open period ends
	if _, _, err := complete(t, a, "m"); err != nil {
		t.Fatalf("replica A's probe: %v", err)
	}
	waitFor(t, func() bool { return rtB.Targets[0].Health().State == router.StateClosed }, "the closing to reach B")
	if _, _, err := complete(t, b, "m"); err != nil {
		t.Fatalf("replica B after the closing: %v", err)
	}
}
