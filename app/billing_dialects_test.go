package app_test

import (
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/store"
)

// billDialect is one provider dialect served by fakellm, and a model routed to it.
type billDialect struct {
	typ   string
	model string // the upstream model
	// base is relative to the fake's origin.
	base string
}

// billDialects are every dialect tollgate speaks, each against the one fakellm.
var billDialects = []billDialect{
	{typ: "openai", model: "gpt-4o-mini", base: "/v1"},
	{typ: "anthropic", model: "claude-sonnet-4-5"},
	{typ: "gemini", model: "gemini-2.5-flash"},
	{typ: "azure", model: "gpt-4o-mini"},
	{typ: "bedrock", model: "anthropic.claude-3-5-haiku-20241022-v1:0"},
	{typ: "cohere", model: "command-r-plus-08-2024"},
}

// startDialectGateway serves the model "priced-<dialect>" for every dialect, each
// through a provider of that type whose upstream reports cached prompt tokens
// (provider headers carry the fakellm knobs: clients' headers are not forwarded). Its
// Fake is that upstream.
func startDialectGateway(t *testing.T, knobs map[string]string) *gateway {
	fake, base := billFake(t, fakellm.Options{})
	origin := strings.TrimSuffix(base, "/v1")
	g := startGateway(t, "sqlite", func(c *configs.Config) {
		c.Billing.SpillDir = t.TempDir()
		for _, d := range billDialects {
			p := billProvider(d.typ, d.typ, origin+d.base, knobs)
			if d.typ == "bedrock" {
				p.Region = "us-east-1"
			}
			c.Providers = append(c.Providers, p)
			c.Models = append(c.Models, billModel("priced-"+d.typ, d.typ, d.model))
		}
	})
	g.Fake = fake
	return g
}

// dialectRows sends one request, unstreamed and streamed, to every dialect's model
// and returns the spend rows of both by dialect, after stopping the gateway.
func dialectRows(t *testing.T, g *gateway) map[string][2]store.SpendRow {
	ids := map[string][2]string{}
	for _, d := range billDialects {
		var pair [2]string
		for i, stream := range []string{"false", "true"} {
			a, err := billPost(g.URL, g.Key, `{"model":"priced-`+d.typ+`","stream":`+stream+
				`,"max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`)
			if err != nil || a.status != 200 {
				t.Fatalf("%s stream=%s: %v %d %s", d.typ, stream, err, a.status, a.body)
			}
			pair[i] = a.id
		}
		ids[d.typ] = pair
	}
	byID := billStop(t, g)
	out := map[string][2]store.SpendRow{}
	for typ, pair := range ids {
		out[typ] = [2]store.SpendRow{byID[pair[0]], byID[pair[1]]}
	}
	return out
}

// TestCachedTokensPricedAtTheCachedRate has OpenAI, Anthropic and Gemini upstreams
// report 40 cached prompt tokens and checks each spend row against the cost worked out
// by hand; then, for every dialect, that a streamed request costs what the same request
// unstreamed costs.
func TestCachedTokensPricedAtTheCachedRate(t *testing.T) {
	rows := dialectRows(t, startDialectGateway(t, map[string]string{"X-Fake-Cached-Tokens": "40"}))
	// fakellm counts "hi" as 1 + 3 prompt tokens and answers 8; with 40 more read from
	// the cache: 4 uncached at $1000/M, 40 cached at $100/M, 8 out at $1000/M.
	const want = 4*1_000_000 + 40*100_000 + 8*1_000_000
	for _, typ := range []string{"openai", "anthropic", "gemini"} {
		r := rows[typ][0]
		if r.PromptTokens != 44 || r.CachedTokens != 40 || r.CompletionTokens != 8 || r.CostNano != want {
			t.Errorf("%s: %d prompt (%d cached) + %d completion tokens cost %d nano-USD; want 44 (40) + 8 at %d",
				typ, r.PromptTokens, r.CachedTokens, r.CompletionTokens, r.CostNano, want)
		}
	}
	checkStreamCostsTheSame(t, rows)
}

// TestStreamCostsWhatUnstreamedCosts is the same equality with cache reads, cache
// writes and reasoning tokens all present, in every dialect.
// By hand: 4 + 40 + 10 prompt tokens and 8 + 5 completion tokens; the dialects that
// report cache writes (Anthropic, Bedrock) bill them at $1250/M, the others at the
// input price, as part of the prompt.
func TestStreamCostsWhatUnstreamedCosts(t *testing.T) {
	rows := dialectRows(t, startDialectGateway(t, map[string]string{"X-Fake-Cached-Tokens": "40",
		"X-Fake-Cache-Write-Tokens": "10", "X-Fake-Reasoning-Tokens": "5"}))
	const writesApart = 4*1_000_000 + 40*100_000 + 10*1_250_000 + 13*1_000_000
	const writesAsInput = 14*1_000_000 + 40*100_000 + 13*1_000_000
	want := map[string]int64{"openai": writesAsInput, "anthropic": writesApart, "gemini": writesAsInput,
		"azure": writesAsInput, "bedrock": writesApart, "cohere": writesAsInput}
	for typ, cost := range want {
		if got := rows[typ][0].CostNano; got != cost {
			t.Errorf("%s: %d nano-USD, want %d", typ, got, cost)
		}
	}
	checkStreamCostsTheSame(t, rows)
}

// checkStreamCostsTheSame checks that every dialect's streamed request was billed the
// same tokens and cost as the unstreamed one, from the provider's usage.
func checkStreamCostsTheSame(t *testing.T, rows map[string][2]store.SpendRow) {
	t.Helper()
	for _, d := range billDialects {
		plain, streamed := rows[d.typ][0], rows[d.typ][1]
		t.Logf("%s: %d+%d tokens (%d cached, %d cache writes, %d reasoning): %d nano-USD unstreamed, %d streamed",
			d.typ, plain.PromptTokens, plain.CompletionTokens, plain.CachedTokens, plain.CacheWriteTokens,
			plain.ReasoningTokens, plain.CostNano, streamed.CostNano)
		plain.ID, plain.RequestID, plain.Time, plain.Stream, plain.LatencyMS, plain.TTFTMS = streamed.ID,
			streamed.RequestID, streamed.Time, streamed.Stream, streamed.LatencyMS, streamed.TTFTMS
		if plain.CachedTokens == 0 || plain.CostNano == 0 || plain != streamed || streamed.UsageSource != "provider" {
			t.Errorf("%s: streamed and unstreamed differ, or cached tokens were lost", d.typ)
		}
	}
}

// TestCutStreamBilledInEveryDialect reads 20 chunks of a 200-chunk stream from every
// dialect and hangs up: each is billed for about 20 completion tokens and its prompt.
func TestCutStreamBilledInEveryDialect(t *testing.T) {
	g := startDialectGateway(t, map[string]string{"X-Fake-Chunks": "200", "X-Fake-Chunk-Delay": "20ms"})
	ids := map[string]string{}
	for _, d := range billDialects {
		resp := g.post(t, "/v1/chat/completions", `{"model":"priced-`+d.typ+`","stream":true,"max_tokens":1000,`+
			`"messages":[{"role":"user","content":"hi"}]}`, nil)
		ids[d.typ] = resp.Header.Get("x-request-id")
		if n := billReadChunks(t, resp.Body, 20); n != 20 {
			t.Fatalf("%s: read %d chunks", d.typ, n)
		}
		resp.Body.Close()
	}
	waitUntil(t, func() bool { return g.Fake.Cancelled() >= int64(len(billDialects)) }, "every upstream sees its client leave")
	byID := billStop(t, g)
	for _, d := range billDialects {
		r := byID[ids[d.typ]]
		t.Logf("%s: %d prompt + %d completion tokens, %d nano-USD, %s", d.typ, r.PromptTokens, r.CompletionTokens,
			r.CostNano, r.UsageSource)
		if r.CompletionTokens < 17 || r.CompletionTokens > 23 || r.PromptTokens < 4 || r.PromptTokens > 12 ||
			r.CostNano != billCost(r.PromptTokens, 0, r.CompletionTokens) ||
			(r.UsageSource != "estimated" && r.UsageSource != "provider") {
			t.Errorf("%s: cut stream billed %+v", d.typ, r)
		}
	}
}
