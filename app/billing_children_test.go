package app_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// TestParentBudgetCountsChildSpendAcrossRestart spends most of a parent key's budget
// through an ephemeral child, restarts the gateway on the same database (budget
// counters in process, so they start again from the spend log's rollups), and checks
// that the parent is refused once it and its child together reach the limit, and that
// GET /v1/key shows the child's spend in the parent's budget.
func TestParentBudgetCountsChildSpendAcrossRestart(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			_, base := billFake(t, fakellm.Options{})
			cfg := configs.Config{Listen: "127.0.0.1:0", DatabaseURL: storetest.URL(t, engine),
				Providers: []configs.Provider{billProvider("fake", "openai", base, nil)},
				Models:    []configs.Model{billModel("priced", "fake", "gpt-4o-mini")}}
			cfg.Billing.SpillDir = t.TempDir()
			env := billEnv()
			g := inProcessReplica(t, cfg, env)
			parentID, parent := g.createKey(t, `{"name":"minter","can_mint":true,"ttl":"1h",`+
				`"budget":{"limit_usd":"0.12","period":"month"}}`)
			r := g.mint(t, parent, `{"max_cost_usd":0.1,"ttl":"30m"}`)
			expect(t, "mint", r, 201, "")
			var child struct{ ID, Key string }
			json.Unmarshal(r.body, &child)
			childOK := spendUntilRefused(t, g.URL, child.Key, child.ID)
			billStopAll(t, g) // Flushes the spend writer, as SIGTERM does.

			restarted := inProcessReplica(t, cfg, env)
			childSpent := billing.Money(int64(childOK) * budgetRequest)
			if got := budgetSpent(t, restarted, parent); got != childSpent {
				t.Fatalf("after the restart the parent's budget shows %s spent, want its child's %s", got, childSpent)
			}
			parentOK := spendUntilRefused(t, restarted.URL, parent, parentID)
			total := int64(childOK+parentOK) * budgetRequest
			t.Logf("child answered %d, parent %d after the restart: %s of $0.12", childOK, parentOK, billing.Money(total))
			if total > budgetLimit {
				t.Fatalf("parent and child spent %d nano-USD together, over the parent's budget of %d", total, budgetLimit)
			}
			if total < budgetLimit-2*budgetRequest {
				t.Fatalf("parent and child spent %d nano-USD: the parent was refused budget it still had", total)
			}
		})
	}
}

// spendUntilRefused sends budgetBody with key one request at a time until the answer
// is 429 budget_exceeded naming the budget of key id, and returns how many were answered
// 200 before.
func spendUntilRefused(t *testing.T, url, key, id string) int {
	t.Helper()
	for ok := 0; ; ok++ {
		a, err := billPost(url, key, budgetBody)
		if err != nil {
			t.Fatal(err)
		}
		if a.status == 429 && a.code == "budget_exceeded" && strings.Contains(a.msg, `key "`+id+`"`) {
			return ok
		}
		if a.status != 200 || ok > 20 {
			t.Fatalf("request %d of key %s: %d %s", ok, id, a.status, a.body)
		}
	}
}

// budgetSpent returns the budget.spent_usd that GET /v1/key shows key.
func budgetSpent(t *testing.T, g *gateway, key string) billing.Money {
	t.Helper()
	r := g.call(t, "GET", "/v1/key", key, "", nil)
	expect(t, "GET /v1/key", r, 200, "")
	var v struct {
		Budget struct {
			SpentUSD billing.Money `json:"spent_usd"`
		}
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	return v.Budget.SpentUSD
}
