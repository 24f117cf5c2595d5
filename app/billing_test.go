package app_test

import (
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// Each request of the budget tests: "hi" is 1 + 3 prompt tokens to fakellm, which
// answers 8 words (8 tokens) under a max_tokens of 10, after 100ms so that requests
// overlap. It costs billCost(4, 0, 8) = $0.012; its worst case, reserved before it is
// sent, is the prompt estimate plus 10 tokens.
const (
	budgetBody    = `{"model":"priced","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"fakellm":{"latency_ms":100}}`
	budgetLimit   = 120_000_000 // $0.12: ten requests
	budgetRequest = 12_000_000
)

// TestBudgetHoldsUnderConcurrency fires 200 concurrent requests at a key whose budget
// covers ten, then more one by one until refused, and checks the recorded spend.
func TestBudgetHoldsUnderConcurrency(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			g := startGateway(t, engine, func(c *configs.Config) {
				c.Billing.SpillDir = t.TempDir()
				c.Models = append(c.Models, billModel("priced", "fake", "gpt-4o-mini"))
			})
			id, key := g.createKey(t, `{"name":"capped","budget":{"limit_usd":"0.12","period":"total"}}`)
			ok := billSpendBudget(t, []string{g.URL}, key, id)
			checkBudgetSpend(t, billStop(t, g), id, ok)
		})
	}
}

// TestBudgetHoldsAcrossReplicas is the same with three replicas sharing PostgreSQL
// and Redis.
func TestBudgetHoldsAcrossReplicas(t *testing.T) {
	redisURL, rdb := testRedis(t)
	dbURL := storetest.URL(t, store.DialectPostgres)
	_, base := billFake(t, fakellm.Options{})
	cfg := configs.Config{Listen: "127.0.0.1:0", DatabaseURL: dbURL, RedisURL: redisURL,
		Providers: []configs.Provider{billProvider("fake", "openai", base, nil)},
		Models:    []configs.Model{billModel("priced", "fake", "gpt-4o-mini")}}
	cfg.Billing.RedisPrefix = billRedisPrefix(t, rdb)
	env := billEnv()
	var gs []*gateway
	var urls []string
	for range 3 {
		cfg.Billing.SpillDir = t.TempDir()
		g := inProcessReplica(t, cfg, env)
		gs, urls = append(gs, g), append(urls, g.URL)
	}
	id, key := gs[0].createKey(t, `{"name":"capped","budget":{"limit_usd":"0.12","period":"total"}}`)
	for _, g := range gs {
		eventually(t, "every replica knows the key", func() bool {
			return g.call(t, "GET", "/v1/key", key, "", nil).status == 200
		})
	}
	ok := billSpendBudget(t, urls, key, id)
	billStopAll(t, gs...)
	checkBudgetSpend(t, billSpendRows(t, dbURL), id, ok)
}

// billSpendBudget sends 200 requests at once, then one at a time until the budget refuses,
// and returns the request ids answered 200. Every refusal must be 429
// insufficient_quota / budget_exceeded naming the key's budget.
func billSpendBudget(t *testing.T, urls []string, key, id string) map[string]bool {
	t.Helper()
	answers, lost := billFire(urls, key, 200, budgetBody)
	if lost > 0 {
		t.Fatalf("%d requests got no answer", lost)
	}
	ok := map[string]bool{}
	refused := 0
	for _, a := range answers {
		switch {
		case a.status == 200:
			ok[a.id] = true
		case a.status == 429 && a.typ == "insufficient_quota" && a.code == "budget_exceeded" &&
			strings.Contains(a.msg, `key "`+id+`"`):
			refused++
		default:
			t.Fatalf("unexpected answer %d: %s", a.status, a.body)
		}
	}
	t.Logf("200 at once: %d answered, %d refused", len(ok), refused)
	if len(ok) == 0 || refused == 0 {
		t.Fatalf("%d answered and %d refused: the budget did not bite, or bit everything", len(ok), refused)
	}
	for i := 0; ; i++ {
		a, err := billPost(urls[i%len(urls)], key, budgetBody)
		if err != nil {
			t.Fatal(err)
		}
		if a.status == 429 && a.code == "budget_exceeded" {
			return ok
		}
		if a.status != 200 || i > 20 {
			t.Fatalf("request %d after the burst: %d %s", i, a.status, a.body)
		}
		ok[a.id] = true
	}
}

// checkBudgetSpend checks that every answered request has its spend row at the
// hand-computed cost, and that their sum is within the budget and close to it.
func checkBudgetSpend(t *testing.T, rows map[string]store.SpendRow, keyID string, ok map[string]bool) {
	t.Helper()
	mine := billRowsOfKey(rows, keyID)
	var sum int64
	for id, r := range mine {
		if !ok[id] {
			t.Errorf("spend row %s for a request that was not answered 200", id)
		}
		if r.PromptTokens != 4 || r.CompletionTokens != 8 || r.CostNano != budgetRequest ||
			r.UsageSource != "provider" {
			t.Errorf("row %s: %d+%d tokens, %d nano-USD from %q; want 4+8 at %d from the provider",
				id, r.PromptTokens, r.CompletionTokens, r.CostNano, r.UsageSource, budgetRequest)
		}
		sum += r.CostNano
	}
	if len(mine) != len(ok) {
		t.Errorf("%d spend rows for %d answered requests", len(mine), len(ok))
	}
	t.Logf("recorded spend %d nano-USD of a %d budget over %d requests", sum, budgetLimit, len(mine))
	if sum > budgetLimit {
		t.Fatalf("recorded spend %d nano-USD is over the budget of %d", sum, budgetLimit)
	}
	if sum < budgetLimit-2*budgetRequest {
		t.Fatalf("recorded spend %d nano-USD: the budget refused requests it could hold", sum)
	}
}

// TestCutStreamIsBilledForWhatItProduced reads 20 chunks of a 200-chunk stream and
// hangs up: the request is billed for about 20 completion tokens, counted by
// tollgate, and its prompt, never at $0. With and without max_tokens: the prompt is
// billed as the prompt, whatever output the request was allowed.
func TestCutStreamIsBilledForWhatItProduced(t *testing.T) {
	for name, extra := range map[string]string{"max_tokens": `"max_tokens":1000,`, "no max_tokens": ``} {
		t.Run(name, func(t *testing.T) {
			g := startGateway(t, "sqlite", func(c *configs.Config) {
				c.Billing.SpillDir = t.TempDir()
				c.Models = append(c.Models, billModel("priced", "fake", "gpt-4o-mini"))
			})
			body := `{"model":"priced","stream":true,` + extra + `"messages":[{"role":"user","content":"hi"}],` +
				`"fakellm":{"chunks":200,"chunk_delay_ms":20}}`
			keyID, key := g.createKey(t, `{"name":"streams"}`)
			resp := g.post(t, "/v1/chat/completions", body, map[string]string{"Authorization": "Bearer " + key})
			id := resp.Header.Get("x-request-id")
			if n := billReadChunks(t, resp.Body, 20); n != 20 {
				t.Fatalf("read %d chunks", n)
			}
			resp.Body.Close()
			waitUntil(t, func() bool { return g.Fake.Cancelled() > 0 }, "the upstream sees the client leave")
			r, ok := billRowsOfKey(billStop(t, g), keyID)[id]
			if !ok {
				t.Fatal("no spend row for the cut stream")
			}
			t.Logf("cut stream billed: %d prompt + %d completion tokens, %d nano-USD, %s",
				r.PromptTokens, r.CompletionTokens, r.CostNano, r.UsageSource)
			if r.CompletionTokens < 17 || r.CompletionTokens > 23 {
				t.Errorf("billed %d completion tokens for 20 chunks read", r.CompletionTokens)
			}
			if r.UsageSource != "estimated" && r.UsageSource != "provider" {
				t.Errorf("usage source %q", r.UsageSource)
			}
			// The prompt estimate of one short message is a handful of tokens.
			if r.PromptTokens < 4 || r.PromptTokens > 12 {
				t.Errorf("billed %d prompt tokens for the prompt \"hi\"", r.PromptTokens)
			}
			if r.CostNano == 0 || r.CostNano != billCost(r.PromptTokens, 0, r.CompletionTokens) {
				t.Errorf("cost %d nano-USD, want %d", r.CostNano, billCost(r.PromptTokens, 0, r.CompletionTokens))
			}
		})
	}
}
