package app_test

import (
	"crypto/rand"
	"encoding/base64"
	"testing"

	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/router"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// TestConfiguredBreakerOpensAfterItsFailures: routing.breaker.consecutive_failures
// in the config decides how many failures in a row open a target's breaker (the
// default is 5), and requests are then served by the healthy target alone.
func TestConfiguredBreakerOpensAfterItsFailures(t *testing.T) {
	deadFake, deadURL := chaosUpstream(t)
	goodFake, goodURL := chaosUpstream(t)
	master := make([]byte, 32)
	rand.Read(master)
	env := map[string]string{"FAKE_OPENAI_KEY": upstreamKey, "TOLLGATE_ADMIN_TOKEN": adminToken,
		"TOLLGATE_MASTER_KEY": base64.StdEncoding.EncodeToString(master)}
	provider := func(name, base string, headers map[string]string) configs.Provider {
		return configs.Provider{Name: name, Type: "openai", BaseURL: base, Headers: headers,
			Keys: []configs.ProviderKey{{Secret: configs.EnvRef("FAKE_OPENAI_KEY")}}}
	}
	const dead = "dead"
	cfg := configs.Config{Listen: "127.0.0.1:0", DatabaseURL: storetest.URL(t, store.DialectSQLite),
		Routing: configs.Routing{Breaker: configs.Breaker{ConsecutiveFailures: 2}},
		Providers: []configs.Provider{provider(dead, deadURL, map[string]string{"X-Fake-Error-Status": "500"}),
			provider("good", goodURL, nil)},
		Models: []configs.Model{{Name: "shared", Targets: []configs.Target{
			{Provider: dead, Model: "gpt-4o", Weight: 5}, {Provider: "good", Model: "gpt-4o"}}}}}
	g := inProcessReplica(t, cfg, env)
	var created struct{ Key string }
	g.admin(t, "POST", "/keys", `{"name":"breaker"}`, 201, &created)
	g.Key = created.Key
	for i := 0; deadHealth(g, dead).State != router.StateOpen; i++ {
		if i == 100 {
			t.Fatalf("the breaker did not open; the dead upstream saw %d requests", deadFake.Count())
		}
		if st, _ := chatModel(t, g, "shared"); st != 200 {
			t.Fatalf("status %d", st)
		}
	}
	if got := deadFake.Count(); got != 2 {
		t.Fatalf("the breaker opened after %d failures, want the configured 2", got)
	}
	before := goodFake.Count()
	for range 10 {
		if st, _ := chatModel(t, g, "shared"); st != 200 {
			t.Fatalf("status %d", st)
		}
	}
	if deadFake.Count() != 2 || goodFake.Count()-before != 10 {
		t.Fatalf("after opening: dead saw %d (want 2), good %d of 10", deadFake.Count(), goodFake.Count()-before)
	}
}
