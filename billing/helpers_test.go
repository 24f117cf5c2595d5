package billing

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// envRedisURL names the Redis test server, as in the rest of the project.
const envRedisURL = "TOLLGATE_TEST_REDIS_URL"

// testRedis returns a client of the test Redis and a fresh key prefix whose keys are
// deleted when the test ends (never FLUSHDB: the server is shared).
func testRedis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	url := os.Getenv(envRedisURL)
	if url == "" {
		t.Skip("set " + envRedisURL + "=redis://127.0.0.1:6379/15 to run Redis tests")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("%s: %v", envRedisURL, err)
	}
	rdb := redis.NewClient(opts)
	b := make([]byte, 8)
	rand.Read(b)
	prefix := "tgtest:{" + hex.EncodeToString(b) + "}:"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		rdb.Close()
	})
	return rdb, prefix
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
