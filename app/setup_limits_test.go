package app_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// limitEnv is one gateway, or several replicas sharing one store and Redis, in front of
// one gated fake upstream. rdb is set when limits live in Redis: the scopes a test
// limits are then unique to it (fresh keys, projects and models with random names), so
// that tests sharing the Redis never count each other's requests, and their counters
// are deleted when the test ends.
type limitEnv struct {
	nodes []*gateway
	up    *gatedUpstream
	rdb   *redis.Client
}

// uniqueName returns prefix and a random suffix.
func uniqueName(prefix string) string {
	var b [5]byte
	rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// redisTimeout is the tests' limits.redis_timeout. A limiter call slower than the
// timeout counts as Redis unreachable and is decided per replica (fail_open), which is
// right for an outage but not what these tests measure; under -race on a busy machine
// a burst of hundreds of requests does keep calls waiting for a CPU longer than the
// default second.
const redisTimeout = configs.Duration(15 * time.Second)

// limiterBackends runs fn once with in-process limits and once with limits in Redis
// (skipped without TOLLGATE_TEST_REDIS_URL), each on one fresh SQLite gateway.
func limiterBackends(t *testing.T, edit func(*configs.Config), fn func(t *testing.T, e *limitEnv)) {
	for _, backend := range []string{"in-process", "redis"} {
		t.Run(backend, func(t *testing.T) {
			redisURL := ""
			if backend == "redis" {
				redisURL, _ = testRedis(t)
			}
			fn(t, startOne(t, redisURL, func(c *configs.Config) {
				c.Limits.RedisTimeout = redisTimeout
				if edit != nil {
					edit(c)
				}
			}))
		})
	}
}

// startOne runs one gateway on a fresh SQLite database, with limits in Redis when
// redisURL is set, in front of a gated fake upstream.
func startOne(t *testing.T, redisURL string, edit func(*configs.Config)) *limitEnv {
	t.Helper()
	e := &limitEnv{up: startGatedUpstream(t)}
	if redisURL != "" {
		_, e.rdb = testRedis(t)
	}
	e.nodes = []*gateway{startGateway(t, store.DialectSQLite, func(c *configs.Config) {
		c.RedisURL = redisURL
		c.Providers[0].BaseURL = e.up.URL
		c.Billing.SpillDir = t.TempDir()
		if edit != nil {
			edit(c)
		}
	})}
	return e
}

// startReplicas runs n gateways in this process on one fresh PostgreSQL schema and
// redisURL, in front of one gated fake upstream.
func startReplicas(t *testing.T, n int, redisURL string, edit func(*configs.Config)) *limitEnv {
	t.Helper()
	_, rdb := testRedis(t)
	e := &limitEnv{up: startGatedUpstream(t), rdb: rdb}
	env := map[string]string{"FAKE_OPENAI_KEY": upstreamKey, "TOLLGATE_ADMIN_TOKEN": adminToken,
		"TOLLGATE_MASTER_KEY": randomMasterKey()}
	cfg := configs.Config{Listen: "127.0.0.1:0", DatabaseURL: storetest.URL(t, store.DialectPostgres), RedisURL: redisURL,
		Providers: []configs.Provider{{Name: "fake", Type: "openai", BaseURL: e.up.URL,
			Keys: []configs.ProviderKey{{Secret: configs.EnvRef("FAKE_OPENAI_KEY")}}}},
		Models: []configs.Model{{Name: "gpt-4o-mini", Targets: []configs.Target{{Provider: "fake"}}}},
		Limits: configs.Limits{RedisTimeout: redisTimeout}}
	if edit != nil {
		edit(&cfg)
	}
	for range n {
		c := cfg
		c.Billing.SpillDir = t.TempDir() // one per replica
		e.nodes = append(e.nodes, inProcessReplica(t, c, env))
	}
	return e
}

// key creates a client key through the admin API of the first replica.
func (e *limitEnv) key(t *testing.T, body string) (id, key string) {
	t.Helper()
	id, key = e.nodes[0].createKey(t, body)
	e.forget(t, "key:"+id)
	return id, key
}

// forget deletes a limited scope's Redis counters when the test ends.
func (e *limitEnv) forget(t *testing.T, scope string) {
	if e.rdb == nil {
		return
	}
	t.Cleanup(func() {
		ctx := context.Background()
		iter := e.rdb.Scan(ctx, 0, "*}:"+scope+":*", 1000).Iterator()
		for iter.Next(ctx) {
			e.rdb.Del(ctx, iter.Val())
		}
	})
}

// chat sends a small chat request for model with key through replica i.
func (e *limitEnv) chat(i int, key, model string) outcome {
	o := send(e.nodes[i%len(e.nodes)].URL, key, "/v1/chat/completions", chatBody(model))
	o.node = i % len(e.nodes)
	return o
}

// burst sends n chat requests for model with key at once, spread over the replicas in
// turn, and returns the answers with status 200 and 429.
func (e *limitEnv) burst(t *testing.T, n int, key, model string) (ok, limited []outcome) {
	t.Helper()
	return split(t, launch(n, func(i int) outcome { return e.chat(i, key, model) }).wait())
}
