package billing

import (
	"strings"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/configs"
)

func defaultCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := DefaultCatalog()
	if err != nil {
		t.Fatalf("DefaultCatalog: %v", err)
	}
	return c
}

func TestDefaultCatalogCoverage(t *testing.T) {
	c := defaultCatalog(t)
	entries := c.Entries()
	if len(entries) < 60 {
		t.Errorf("catalog has %d models, want at least 60", len(entries))
	}
	perProvider := map[string]int{}
	for _, e := range entries {
		perProvider[e.Provider]++
		if e.AsOf.Before(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s/%s: as_of %s is not current", e.Provider, e.ID, e.AsOf.Format(time.DateOnly))
		}
		p := e.Price
		if p.Output > 0 && p.MaxOutputTokens == 0 {
			t.Errorf("%s/%s: a chat model needs max_output_tokens", e.Provider, e.ID)
		}
		if p.CachedInput > p.Input {
			t.Errorf("%s/%s: cached input %s dearer than input %s", e.Provider, e.ID, p.CachedInput, p.Input)
		}
		if !strings.HasPrefix(p.Version, e.Provider+"/"+e.ID+"@") {
			t.Errorf("%s/%s: version %q", e.Provider, e.ID, p.Version)
		}
	}
	for _, prov := range catalogProviders {
		if perProvider[prov] == 0 {
			t.Errorf("no models of %s", prov)
		}
	}
}

func TestCatalogLookup(t *testing.T) {
	c := defaultCatalog(t)
	tests := []struct {
		provider, model string
		wantID          string // "" means not found
	}{
		{"openai", "gpt-4o", "gpt-4o"},
		{"openai", "GPT-4o", "gpt-4o"},
		{"openai", "gpt-4o-2024-08-06", "gpt-4o"},
		{"openai", "gpt-4o-2024-05-13", "gpt-4o-2024-05-13"},
		{"openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"},
		{"azure", "gpt-4.1", "gpt-4.1"},
		{"anthropic", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5"},
		{"anthropic", "claude-3-5-haiku-latest", "claude-3-5-haiku"},
		{"anthropic", "claude-opus-4-0", "claude-opus-4"},
		{"vertex", "claude-sonnet-4-5@20250929", "claude-sonnet-4-5"},
		{"bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"},
		{"bedrock", "amazon.nova-pro-v1:0", "nova-pro"},
		{"bedrock", "eu.amazon.nova-micro-v1:0", "nova-micro"},
		{"gemini", "models/gemini-2.5-flash", "gemini-2.5-flash"},
		{"groq", "openai/gpt-oss-120b", "openai/gpt-oss-120b"},
		{"openrouter", "anthropic/claude-haiku-4-5", "claude-haiku-4-5"},
		{"deepseek", "deepseek-chat", "deepseek-v4-flash"},
		{"mistral", "mistral-large-latest", "mistral-large-latest"},
		{"ollama", "llama3:8b", ""},
		{"openai", "ft:gpt-4o-mini:acme::x1", ""},
		{"openai", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.provider+"/"+tt.model, func(t *testing.T) {
			e, ok := c.Lookup(tt.provider, tt.model)
			if tt.wantID == "" {
				if ok {
					t.Fatalf("found %s/%s, want no entry", e.Provider, e.ID)
				}
				return
			}
			if !ok || e.ID != tt.wantID {
				t.Fatalf("Lookup = %q, %v; want %q", e.ID, ok, tt.wantID)
			}
		})
	}
}

func TestCatalogPriceOverrides(t *testing.T) {
	c := defaultCatalog(t)
	model := &configs.Pricing{InputPerMTok: "2.00", OutputPerMTok: "8"}
	target := &configs.Pricing{OutputPerMTok: "7.5"}
	p, err := c.Price("openai", "gpt-4o", model, target)
	if err != nil {
		t.Fatal(err)
	}
	want := Rates{Input: 2 * USD, CachedInput: 125 * Cent, CacheWrite: 2 * USD, Output: 75 * USD / 10, Reasoning: 75 * USD / 10}
	if p.Rates != want {
		t.Errorf("rates = %+v, want %+v (target beats model beats catalog; cache writes follow input)", p.Rates, want)
	}
	if !strings.HasPrefix(p.Version, "override@") || !p.Known || p.MaxOutputTokens != 16384 {
		t.Errorf("price = %+v", p)
	}
	again, _ := c.Price("azure", "gpt-4o-2024-11-20", model, target)
	if again.Version != p.Version {
		t.Errorf("same override prices got versions %q and %q", p.Version, again.Version)
	}

	long, _ := c.Price("gemini", "gemini-2.5-pro", &configs.Pricing{InputPerMTok: "1"})
	if long.LongContext != nil {
		t.Error("an override kept the catalog's long-context band")
	}

	plain, _ := c.Price("openai", "gpt-4o", nil, &configs.Pricing{})
	if plain.Version != "openai/gpt-4o@1" {
		t.Errorf("empty override changed the version to %q", plain.Version)
	}

	local, _ := c.Price("vllm", "my-local-model", &configs.Pricing{InputPerMTok: "0.1", OutputPerMTok: "0.2"})
	if !local.Known || local.CachedInput != MustUSD("0.1") || local.Output != MustUSD("0.2") {
		t.Errorf("override of an unknown model = %+v", local)
	}
	none, _ := c.Price("vllm", "my-local-model")
	if none.Known || none.Version != VersionUnpriced {
		t.Errorf("unknown model = %+v, want unpriced", none)
	}

	if _, err := c.Price("openai", "gpt-4o", &configs.Pricing{InputPerMTok: "-1"}); err == nil {
		t.Error("a negative override was accepted")
	}
	if n, ok := c.MaxOutputTokens("anthropic", "claude-sonnet-4-5-20250929"); !ok || n != 64000 {
		t.Errorf("MaxOutputTokens = %d, %v", n, ok)
	}
}

func TestParseCatalogRejects(t *testing.T) {
	const ok = `{id: m, provider: openai, input: 1, output: 2, max_output_tokens: 10, version: 1, as_of: 2026-01-02, source: x}`
	tests := []struct{ name, models, want string }{
		{"unknown field", `[{id: m, provider: openai, input: 1, output: 2, max_output_tokens: 10, version: 1, as_of: 2026-01-02, source: x, colour: red}]`, "colour"},
		{"duplicate", "[" + ok + ", " + ok + "]", "listed twice"},
		{"no version", `[{id: m, provider: openai, input: 1, output: 2, max_output_tokens: 10, as_of: 2026-01-02, source: x}]`, "version"},
		{"no source", `[{id: m, provider: openai, input: 1, output: 2, max_output_tokens: 10, version: 1, as_of: 2026-01-02}]`, "source"},
		{"bad date", `[{id: m, provider: openai, input: 1, output: 2, max_output_tokens: 10, version: 1, as_of: soon, source: x}]`, "as_of"},
		{"float price", `[{id: m, provider: openai, input: 1.5e-12, output: 2, max_output_tokens: 10, version: 1, as_of: 2026-01-02, source: x}]`, "input"},
		{"no output", `[{id: m, provider: openai, input: 1, max_output_tokens: 10, version: 1, as_of: 2026-01-02, source: x}]`, "output"},
		{"bad provider", `[{id: m, provider: acme, input: 1, output: 2, max_output_tokens: 10, version: 1, as_of: 2026-01-02, source: x}]`, "acme"},
		{"bad band", `[{id: m, provider: openai, input: 1, output: 2, long_context: {above: 0, input: 1, output: 1}, max_output_tokens: 10, version: 1, as_of: 2026-01-02, source: x}]`, "long_context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCatalog([]byte("schema: 1\nmodels: " + tt.models + "\n"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	if _, err := ParseCatalog([]byte("schema: 1\nmodels: [" + ok + "]\n")); err != nil {
		t.Fatalf("valid catalog: %v", err)
	}
}
