package app_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate-llm/tollgate/app"
	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/router"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
	"github.com/tollgate-llm/tollgate/telemetry"
)

// testRedis returns the test Redis URL and a client, or skips the test.
func testRedis(t *testing.T) (string, *redis.Client) {
	t.Helper()
	u := os.Getenv("TOLLGATE_TEST_REDIS_URL")
	if u == "" {
		t.Skip("set TOLLGATE_TEST_REDIS_URL=redis://127.0.0.1:6379/15 to run Redis tests (as .ci/run does)")
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return u, c
}

// inProcessReplica runs one gateway over cfg in this process, as a replica: replicas
// share cfg's database and Redis, and env's master key.
func inProcessReplica(t *testing.T, cfg configs.Config, env map[string]string) *gateway {
	t.Helper()
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Options{Config: &cfg, Getenv: func(k string) string { return env[k] },
		Log: telemetry.NewLogger(logs, telemetry.ParseLevel("debug")), Notice: logs,
		KeyFile: filepath.Join(t.TempDir(), "tollgate.key")})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := app.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
		a.Close()
	})
	return &gateway{URL: "http://" + ln.Addr().String(), App: a, Logs: logs, DB: cfg.DatabaseURL}
}

// replicaPair starts two in-process replicas over one store and one Redis, routing the
// model "shared" to a dead and a healthy upstream. It returns them and the dead
// upstream's provider name, unique to this run so that its Redis keys are too.
func replicaPair(t *testing.T) (a, b *gateway, dead string, deadCount, goodCount func() int64) {
	t.Helper()
	redisURL, rdb := testRedis(t)
	var suffix [6]byte
	rand.Read(suffix[:])
	dead = "dead-" + hex.EncodeToString(suffix[:])
	t.Cleanup(func() { dropBreakerKeys(t, rdb, dead) })
	cfg, env, deadCount, goodCount := deadAndGood(t, dead)
	cfg.RedisURL = redisURL
	a = inProcessReplica(t, cfg, env)
	b = inProcessReplica(t, cfg, env)
	var created struct{ Key string }
	a.admin(t, "POST", "/keys", `{"name":"replicas"}`, 201, &created)
	a.Key, b.Key = created.Key, created.Key
	return a, b, dead, deadCount, goodCount
}

// deadAndGood returns a config and environment routing the model "shared" to two
// upstreams: the provider dead, which answers every request 500 and weighs five times
// more, and a healthy one, "good"; and the request counters of both.
func deadAndGood(t *testing.T, dead string) (cfg configs.Config, env map[string]string, deadCount, goodCount func() int64) {
	deadFake, deadURL := chaosUpstream(t)
	goodFake, goodURL := chaosUpstream(t)
	master := make([]byte, 32)
	rand.Read(master)
	env = map[string]string{"FAKE_OPENAI_KEY": upstreamKey, "TOLLGATE_ADMIN_TOKEN": adminToken,
		"TOLLGATE_MASTER_KEY": base64.StdEncoding.EncodeToString(master)}
	provider := func(name, base string, headers map[string]string) configs.Provider {
		return configs.Provider{Name: name, Type: "openai", BaseURL: base, Headers: headers,
			Keys: []configs.ProviderKey{{Secret: configs.EnvRef("FAKE_OPENAI_KEY")}}}
	}
	cfg = configs.Config{Listen: "127.0.0.1:0", DatabaseURL: storetest.URL(t, store.DialectSQLite),
		Providers: []configs.Provider{provider(dead, deadURL, map[string]string{"X-Fake-Error-Status": "500"}),
			provider("good", goodURL, nil)},
		Models: []configs.Model{{Name: "shared", Targets: []configs.Target{
			{Provider: dead, Model: "gpt-4o", Weight: 5}, {Provider: "good", Model: "gpt-4o"}}}}}
	return cfg, env, deadFake.Count, goodFake.Count
}

// dropBreakerKeys deletes the shared breaker keys of provider, and nothing else.
func dropBreakerKeys(t *testing.T, rdb *redis.Client, provider string) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, "tollgate:breaker:*"+provider+"/*", 100).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
}

// deadHealth returns a replica's view of the dead target.
func deadHealth(g *gateway, dead string) router.TargetHealth {
	rt, _ := g.App.Router.Lookup("shared")
	for _, t := range rt.Targets {
		if t.Deployment.Name == dead {
			return t.Health()
		}
	}
	return router.TargetHealth{}
}

// TestBreakerSharedAcrossReplicas checks that once replica A opened the breaker of a
// dead upstream, replica B skips it without sending it the requests A needed to open
// it: B's requests all succeed and the dead upstream sees none of them.
func TestBreakerSharedAcrossReplicas(t *testing.T) {
	a, b, dead, deadCount, goodCount := replicaPair(t)
	for i := 0; deadHealth(a, dead).State != router.StateOpen; i++ {
		if i == 100 {
			t.Fatalf("replica A's breaker did not open; the dead upstream saw %d requests", deadCount())
		}
		if st, _ := chatModel(t, a, "shared"); st != 200 {
			t.Fatalf("replica A: status %d", st)
		}
	}
	opened := deadCount()
	if opened != 5 {
		t.Fatalf("replica A needed %d failures to open the breaker, want 5", opened)
	}
	waitUntil(t, func() bool { h := deadHealth(b, dead); return h.State == router.StateOpen && h.Remote },
		"replica B to learn of the opening")
	before := goodCount()
	const sent = 30
	for range sent {
		if st, _ := chatModel(t, b, "shared"); st != 200 {
			t.Fatalf("replica B: status %d", st)
		}
	}
	if got := deadCount(); got != opened {
		t.Fatalf("replica B sent the dead upstream %d requests after A opened its breaker", got-opened)
	}
	if got := goodCount() - before; got != sent {
		t.Fatalf("the healthy upstream got %d of B's %d requests", got, sent)
	}
}

// TestModelChangeReachesReplicas checks that a model created, changed and deleted
// through one replica routes on the other without a restart.
func TestModelChangeReachesReplicas(t *testing.T) {
	a, b, _, _, _ := replicaPair(t)
	a.admin(t, "POST", "/models", `{"name":"added","targets":[{"provider":"good","model":"gpt-4o"}]}`, 201, nil)
	waitUntil(t, func() bool { st, _ := chatModel(t, b, "added"); return st == 200 }, "replica B to route the new model")
	a.admin(t, "PATCH", "/models/added", `{"targets":[{"provider":"good","model":"gpt-4.1-mini"}]}`, 200, nil)
	waitUntil(t, func() bool { _, m := chatModel(t, b, "added"); return m == "gpt-4.1-mini" }, "replica B to route the change")
	a.admin(t, "DELETE", "/models/added", "", 200, nil)
	waitUntil(t, func() bool { st, _ := chatModel(t, b, "added"); return st == 404 }, "replica B to drop the model")
}
