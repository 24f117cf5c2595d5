package app_test

import (
	"testing"

	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/router"
)

// TestConfiguredBreakerOpensAfterItsFailures: routing.breaker.consecutive_failures
// in the config decides how many failures in a row open a target's breaker (the
// default is 5), and requests are then served by the healthy target alone.
func TestConfiguredBreakerOpensAfterItsFailures(t *testing.T) {
	const dead = "dead"
	cfg, env, deadCount, goodCount := deadAndGood(t, dead)
	cfg.Routing = configs.Routing{Breaker: configs.Breaker{ConsecutiveFailures: 2}}
	g := inProcessReplica(t, cfg, env)
	var created struct{ Key string }
	g.admin(t, "POST", "/keys", `{"name":"breaker"}`, 201, &created)
	g.Key = created.Key
	for i := 0; deadHealth(g, dead).State != router.StateOpen; i++ {
		if i == 100 {
			t.Fatalf("the breaker did not open; the dead upstream saw %d requests", deadCount())
		}
		if st, _ := chatModel(t, g, "shared"); st != 200 {
			t.Fatalf("status %d", st)
		}
	}
	if got := deadCount(); got != 2 {
		t.Fatalf("the breaker opened after %d failures, want the configured 2", got)
	}
	before := goodCount()
	for range 10 {
		if st, _ := chatModel(t, g, "shared"); st != 200 {
			t.Fatalf("status %d", st)
		}
	}
	if deadCount() != 2 || goodCount()-before != 10 {
		t.Fatalf("after opening: dead saw %d (want 2), good %d of 10", deadCount(), goodCount()-before)
	}
}
