package telemetry

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func wantLines(t *testing.T, out string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(out, l+"\n") {
			t.Errorf("missing %q", l)
		}
	}
}

func TestUnknownModelsAreCountedAsOther(t *testing.T) {
	m := NewMetrics()
	m.SetModels(func(name string) bool { return name == "gpt-4o" })
	m.Request("chat", "gpt-4o", "openai", 200, "", time.Millisecond)
	m.Request("chat", "made-up-"+testKey, "", 404, "model_not_found", time.Millisecond)
	out := scrape(t, m)
	wantLines(t, out,
		`tollgate_requests_total{code="",endpoint="chat",model="gpt-4o",provider="openai",status="200"} 1`,
		`tollgate_requests_total{code="model_not_found",endpoint="chat",model="other",provider="",status="404"} 1`)
	if strings.Contains(out, "made-up") {
		t.Error("a made-up model name became a label")
	}
}

func TestCostIsSummedExactly(t *testing.T) {
	m := NewMetrics()
	for range 1000 {
		m.Cost("gpt-4o", "openai", 1) // a thousand nano-dollars
	}
	m.Cost("gpt-4o", "openai", 2_500_000_000)
	wantLines(t, scrape(t, m), `tollgate_cost_usd_total{model="gpt-4o",provider="openai"} 2.500001`)
}

func TestErrorKindsAndLimitDenials(t *testing.T) {
	m := NewMetrics()
	m.requestOutcome("chat", "gpt-4o", "", apierr.New(apierr.KindPolicy, 429, "tokens", "rate_limit_exceeded", "slow down"))
	m.requestOutcome("chat", "gpt-4o", "", apierr.New(apierr.KindPolicy, 429, "insufficient_quota", "budget_exceeded", "spent"))
	m.requestOutcome("chat", "gpt-4o", "openai", apierr.New(apierr.KindProvider, 429, "requests", "rate_limit_exceeded", "upstream"))
	m.requestOutcome("chat", "gpt-4o", "openai", apierr.New(apierr.KindProvider, 400, "x", "Some upstream text!", "bad"))
	wantLines(t, scrape(t, m),
		`tollgate_limit_denials_total{code="rate_limit_exceeded",endpoint="chat",model="gpt-4o",type="tokens"} 1`,
		`tollgate_limit_denials_total{code="budget_exceeded",endpoint="chat",model="gpt-4o",type="insufficient_quota"} 1`,
		`tollgate_request_errors_total{code="rate_limit_exceeded",endpoint="chat",kind="provider",model="gpt-4o",provider="openai"} 1`,
		`tollgate_request_errors_total{code="other",endpoint="chat",kind="provider",model="gpt-4o",provider="openai"} 1`,
		`tollgate_request_errors_total{code="budget_exceeded",endpoint="chat",kind="policy",model="gpt-4o",provider=""} 1`)
}

func TestBreakerStatesAndQueueDepths(t *testing.T) {
	m := NewMetrics()
	depth := 7
	m.AddQueue("spend", func() int { return depth })
	m.SetBreakers(func() []BreakerSample {
		keys := []KeySample{{ID: "pk_1", State: "disabled"}, {ID: "pk_2", State: "active"}}
		return []BreakerSample{
			{Provider: "openai", Model: "gpt-4o", State: "open", InFlight: 2, Keys: keys},
			{Provider: "openai", Model: "gpt-4o", State: "open", InFlight: 2, Keys: keys}, // a second route
		}
	})
	wantLines(t, scrape(t, m),
		`tollgate_queue_depth{queue="spend"} 7`,
		`tollgate_breaker_state{model="gpt-4o",provider="openai",state="open"} 1`,
		`tollgate_breaker_state{model="gpt-4o",provider="openai",state="closed"} 0`,
		`tollgate_upstream_in_flight{model="gpt-4o",provider="openai"} 2`,
		`tollgate_provider_key_state{key_id="pk_1",provider="openai",state="disabled"} 1`,
		`tollgate_provider_key_state{key_id="pk_2",provider="openai",state="active"} 1`)
	depth = 0
	wantLines(t, scrape(t, m), `tollgate_queue_depth{queue="spend"} 0`)
}
