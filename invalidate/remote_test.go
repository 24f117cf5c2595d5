package invalidate

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// redisClient returns a client for TOLLGATE_TEST_REDIS_URL named name, or skips.
func redisClient(t *testing.T, name string) *redis.Client {
	t.Helper()
	u := os.Getenv("TOLLGATE_TEST_REDIS_URL")
	if u == "" {
		t.Skip("set TOLLGATE_TEST_REDIS_URL=redis://127.0.0.1:6379/15 to run Redis tests (as .ci/run does)")
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	opts.ClientName = name
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// remoteBus is what the cross-replica tests need of a backend.
type remoteBus interface {
	Bus
	Start(ctx context.Context) error
	Close() error
}

// checkAcrossReplicas publishes on a and expects b to receive, and a to receive its own
// message once (locally), never twice.
func checkAcrossReplicas(t *testing.T, a, b remoteBus) {
	t.Helper()
	ctx := context.Background()
	onA, onB := newRecorder(), newRecorder()
	a.Subscribe("keys", onA.fn)
	b.Subscribe("keys", onB.fn)
	if err := a.Publish(ctx, "keys", "key-1"); err != nil {
		t.Fatal(err)
	}
	onB.waitFor(t, "key-1")
	// A marker from b proves a has read past its own echo of key-1.
	if err := b.Publish(ctx, "keys", "marker"); err != nil {
		t.Fatal(err)
	}
	onA.waitFor(t, "marker")
	if got := onA.got(); len(got) != 2 || got[0] != "key-1" {
		t.Fatalf("publisher got %v, want key-1 once then the marker", got)
	}
}

// checkReconnect cuts b's connection with kill and expects All, then normal delivery.
func checkReconnect(t *testing.T, a, b remoteBus, kill func()) {
	t.Helper()
	onB := newRecorder()
	b.Subscribe("models", onB.fn)
	kill()
	onB.waitFor(t, All)
	if err := a.Publish(context.Background(), "models", "after-reconnect"); err != nil {
		t.Fatal(err)
	}
	onB.waitFor(t, "after-reconnect")
}

func TestRedisBus(t *testing.T) {
	name := "tgtest-" + newOrigin()
	channel := "tgtest:invalidate:" + newOrigin()
	opts := Options{Channel: channel, Retry: 50 * time.Millisecond}
	a := NewRedis(redisClient(t, name+"-a"), opts)
	bClient := redisClient(t, name+"-b")
	b := NewRedis(bClient, opts)
	for _, bus := range []*Redis{a, b} {
		if err := bus.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { bus.Close() })
	}
	checkAcrossReplicas(t, a, b)
	checkReconnect(t, a, b, func() { killRedisClients(t, bClient, name+"-b") })
}

// killRedisClients closes the server side of this test's own connections named name.
func killRedisClients(t *testing.T, c *redis.Client, name string) {
	t.Helper()
	ctx := context.Background()
	list, err := c.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for _, line := range strings.Split(list, "\n") {
		var id string
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "id="); ok {
				id = v
			}
			if f == "name="+name && id != "" {
				if err := c.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err == nil {
					killed++
				}
			}
		}
	}
	if killed == 0 {
		t.Fatalf("no connection named %s to kill", name)
	}
}

func TestPostgresBus(t *testing.T) {
	dbURL := storetest.URL(t, store.DialectPostgres)
	db, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	appName := "tgtest_" + newOrigin()
	u, _ := url.Parse(dbURL)
	q := u.Query()
	q.Set("application_name", appName)
	u.RawQuery = q.Encode()
	opts := Options{Retry: 50 * time.Millisecond}
	a := NewPostgres(dbURL, db.SQL(), opts)
	b := NewPostgres(u.String(), db.SQL(), opts)
	for _, bus := range []*Postgres{a, b} {
		if err := bus.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { bus.Close() })
	}
	checkAcrossReplicas(t, a, b)

	// Another schema on the same server is another channel: it hears nothing.
	other := NewPostgres(storetest.URL(t, store.DialectPostgres), db.SQL(), opts)
	if err := other.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	if other.channel == a.channel {
		t.Fatalf("two schemas share the channel %s", a.channel)
	}

	checkReconnect(t, a, b, func() {
		_, err := db.SQL().Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, appName)
		if err != nil {
			t.Fatal(err)
		}
	})
}
