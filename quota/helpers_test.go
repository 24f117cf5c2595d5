package quota

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate-llm/tollgate/apierr"
)

// netAttempts counts HTTP requests made by anything in this test binary. TestMain routes
// them to a transport that refuses, so that a tokenizer download would fail and show.
var netAttempts atomic.Int64

type refuseTransport struct{}

func (refuseTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	netAttempts.Add(1)
	return nil, fmt.Errorf("test: network access to %s is forbidden", r.URL.Host)
}

func TestMain(m *testing.M) {
	// Nothing in quota may reach the network: no proxy, no default transport, and an
	// empty tiktoken cache directory so that a cached download cannot hide one.
	http.DefaultTransport = refuseTransport{}
	os.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	os.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	dir, err := os.MkdirTemp("", "tiktoken-cache-")
	if err != nil {
		panic(err)
	}
	os.Setenv("TIKTOKEN_CACHE_DIR", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// redisURL returns the test Redis or skips the test.
func redisURL(t testing.TB) string {
	u := os.Getenv("TOLLGATE_TEST_REDIS_URL")
	if u == "" {
		t.Skip("Redis tests need a server: TOLLGATE_TEST_REDIS_URL='redis://127.0.0.1:6379/15' go test ./quota/")
	}
	return u
}

// newRedisClient connects to url with per-call context deadlines.
func newRedisClient(t testing.TB, url string) *redis.Client {
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("TOLLGATE_TEST_REDIS_URL: %v", err)
	}
	opts.ContextTimeoutEnabled = true
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// testPrefix returns a random key prefix and deletes its keys when the test ends.
func testPrefix(t testing.TB, c *redis.Client) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "tgtest-" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, "{"+prefix+"}:*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
	return prefix
}

// newTestRedis returns a Redis limiter on a fresh prefix of the test Redis.
func newTestRedis(t testing.TB, opts RedisOptions) (*Redis, *redis.Client) {
	c := newRedisClient(t, redisURL(t))
	if opts.Prefix == "" {
		opts.Prefix = testPrefix(t, c)
	}
	r, err := NewRedis(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r, c
}

// burst runs n concurrent Allow calls, spread over the limiters in turn, and returns the
// allowed decisions and the denials.
func burst(t testing.TB, n int, req Request, ls ...Limiter) (allowed []*Decision, denied []*apierr.Error) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			d, err := ls[i%len(ls)].Allow(context.Background(), req)
			mu.Lock()
			defer mu.Unlock()
			var ae *apierr.Error
			switch {
			case err == nil && d.Allowed:
				allowed = append(allowed, d)
			case errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests && d != nil && !d.Allowed:
				denied = append(denied, ae)
			default:
				t.Errorf("Allow: %s, error %v", describe(d), err)
			}
		})
	}
	close(start)
	wg.Wait()
	return allowed, denied
}

// mustAllow calls Allow and fails the test unless the request was allowed.
func mustAllow(t testing.TB, l Limiter, req Request) *Decision {
	t.Helper()
	d, err := l.Allow(context.Background(), req)
	if err != nil || !d.Allowed {
		t.Fatalf("Allow(%+v): %s, error %v; want allowed", req.Limits, describe(d), err)
	}
	return d
}

// mustDeny calls Allow and fails the test unless a 429 named the scope and kind.
func mustDeny(t testing.TB, l Limiter, req Request, scope string, kind Kind) *Decision {
	t.Helper()
	d, err := l.Allow(context.Background(), req)
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests || d == nil || d.Denied == nil {
		t.Fatalf("Allow(%+v): %s, error %v; want a 429", req.Limits, describe(d), err)
	}
	if d.Denied.Scope != scope || d.Denied.Kind != kind {
		t.Fatalf("denied by %s %s, want %s %s", d.Denied.Scope, d.Denied.Kind, scope, kind)
	}
	return d
}

// one builds a request with the given limits.
func one(est int64, limits ...Limit) Request {
	return Request{RequestID: "req", EstimatedTokens: est, Limits: limits}
}

// describe prints a decision's public fields.
func describe(d *Decision) string {
	if d == nil {
		return "no decision"
	}
	return fmt.Sprintf("allowed %v, requests %+v, tokens %+v, denied %+v, local %v",
		d.Allowed, d.Requests, d.Tokens, d.Denied, d.Local)
}
