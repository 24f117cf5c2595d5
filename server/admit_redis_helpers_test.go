package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/quota"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// roundTrips counts a go-redis client's network round trips: one per command sent
// alone, one per pipeline. noScript > 0 makes that many pipelines answer NOSCRIPT to
// every command, as Redis does after a restart emptied its script cache; timeouts > 0
// makes that many pipelines fail unsent, as when their deadline passes while they wait
// for a pooled connection on a busy gateway.
type roundTrips struct {
	n, noScript, timeouts atomic.Int64
}

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
		if h.timeouts.Add(-1) >= 0 {
			for _, c := range cmds {
				c.SetErr(context.DeadlineExceeded)
			}
			return context.DeadlineExceeded
		}
		h.timeouts.Store(0)
		if h.noScript.Add(-1) >= 0 {
			for _, c := range cmds {
				c.SetErr(redis.ErrNoScript)
			}
			return redis.ErrNoScript
		}
		h.noScript.Store(0)
		return next(ctx, cmds)
	}
}

// redisAccounts applies one key limit and one budget to every request; the test may
// change them between requests.
type redisAccounts struct {
	mu     sync.Mutex
	limit  quota.Limit
	budget billing.Budget
}

func (a *redisAccounts) Limits(*keys.Principal, string) []quota.Limit {
	a.mu.Lock()
	defer a.mu.Unlock()
	return []quota.Limit{a.limit}
}

func (a *redisAccounts) Budgets(*keys.Principal) []billing.Budget {
	a.mu.Lock()
	defer a.mu.Unlock()
	return []billing.Budget{a.budget}
}

func (a *redisAccounts) set(l quota.Limit, b billing.Budget) {
	a.mu.Lock()
	a.limit, a.budget = l, b
	a.mu.Unlock()
}

var redisTestPrice = billing.Price{Version: "test", Known: true, MaxOutputTokens: 1000,
	Rates: billing.Rates{Input: billing.MustUSD("1"), CachedInput: billing.MustUSD("1"),
		Output: billing.MustUSD("2"), Reasoning: billing.MustUSD("2")}}

func (a *redisAccounts) Prices(string) ([]billing.Price, int64) {
	return []billing.Price{redisTestPrice}, 1000
}

func (a *redisAccounts) PriceOf(string, string, string) billing.Price { return redisTestPrice }

type noSpend struct{}

func (noSpend) SpentSince(context.Context, string, string, time.Time) (int64, error) { return 0, nil }

type discardRows struct{}

func (discardRows) Append(context.Context, ...store.SpendRow) error { return nil }

// redisGateway is a server whose limiter and ledger share one Redis client.
type redisGateway struct {
	h        http.Handler
	key      string
	acc      *redisAccounts
	trips    *roundTrips
	ledger   *billing.Ledger
	limiter  *quota.Redis
	service  *billing.Service
	deps     AccountDeps
	auth     Authenticator
	rdb      *redis.Client
	keyScope string
}

func newRedisGateway(t testing.TB) *redisGateway {
	url := os.Getenv("TOLLGATE_TEST_REDIS_URL")
	if url == "" {
		t.Skip("set TOLLGATE_TEST_REDIS_URL=redis://127.0.0.1:6379/15 to run Redis tests")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	opts.ContextTimeoutEnabled = true
	rdb := redis.NewClient(opts)
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "tgtest-" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		for _, pattern := range []string{"{" + prefix + "}:*", prefix + ":{budget}:*"} {
			iter := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
			for iter.Next(ctx) {
				rdb.Del(ctx, iter.Val())
			}
		}
		rdb.Close()
	})
	g := &redisGateway{acc: &redisAccounts{}, trips: &roundTrips{}, rdb: rdb}
	rdb.AddHook(g.trips)
	if g.limiter, err = quota.NewRedis(rdb, quota.RedisOptions{Prefix: prefix}); err != nil {
		t.Fatal(err)
	}
	g.ledger, err = billing.NewLedger(billing.LedgerOptions{Spend: noSpend{}, Redis: rdb,
		RedisPrefix: prefix + ":{budget}:"})
	if err != nil {
		t.Fatal(err)
	}
	if g.service, err = billing.NewService(billing.ServiceOptions{Ledger: g.ledger, Sink: discardRows{},
		Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	db := storetest.Open(t, "sqlite")
	auth := keys.NewAuthenticator(db, keys.NewHasher([]byte("0123456789abcdef0123456789abcdef")), nil)
	key, err := keys.NewManager(db, auth).Create(ctx, keys.CreateRequest{Name: "app"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	g.auth, g.key, g.keyScope = auth, key.Key, quota.KeyScope(key.ID)
	g.acc.set(quota.Limit{Scope: g.keyScope, RPM: 1 << 40, TPM: 1 << 50, MaxParallel: 1 << 30},
		billing.Budget{Scope: billing.ScopeKey, Subject: key.ID, Limit: 1 << 60, Period: billing.PeriodMonth})
	g.deps = AccountDeps{Limiter: g.limiter, Biller: g.service, Accounts: g.acc}
	g.serve(t, g.deps)
	return g
}

// serve rebuilds the server on deps.
func (g *redisGateway) serve(t testing.TB, deps AccountDeps) {
	const answer = `{"id":"chatcmpl-1","object":"chat.completion","choices":[]}`
	s, err := New(Deps{Log: slog.New(slog.DiscardHandler), Auth: g.auth, Router: cannedChat{body: answer},
		AccountDeps: deps}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	g.h = s.Handler()
}

// chat sends one chat request and returns its status and error code.
func (g *redisGateway) chat(t testing.TB) (int, string) {
	req := httptest.NewRequest("POST", "/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+g.key)
	w := httptest.NewRecorder()
	g.h.ServeHTTP(w, req)
	code := ""
	if i := strings.Index(w.Body.String(), `"code":"`); i >= 0 {
		code, _, _ = strings.Cut(w.Body.String()[i+8:], `"`)
	}
	return w.Code, code
}
