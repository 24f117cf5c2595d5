package billing

import (
	"testing"

	"github.com/tollgate-llm/tollgate/schema"
)

// TestCostCachedTokens prices normalised usage with the built-in catalog. Every expected
// cost is worked out by hand in the comment beside it, from the catalog's USD per
// million tokens.
func TestCostCachedTokens(t *testing.T) {
	c := defaultCatalog(t)
	tests := []struct {
		name, provider, model string
		usage                 schema.Usage
		want                  Money
	}{
		{
			// OpenAI reports prompt_tokens including cached_tokens.
			// 6,000 uncached × $2.50 = $0.015; 4,000 cached × $1.25 = $0.005;
			// 500 output × $10 = $0.005. Total $0.025.
			name: "openai gpt-4o cached", provider: "openai", model: "gpt-4o-2024-08-06",
			usage: schema.Usage{PromptTokens: 10_000, CachedTokens: 4_000, CompletionTokens: 500},
			want:  MustUSD("0.025"),
		},
		{
			// Without the cache discount the same request would cost $0.030: the
			// difference is what peers get wrong (bifrost#904).
			name: "openai gpt-4o uncached", provider: "openai", model: "gpt-4o",
			usage: schema.Usage{PromptTokens: 10_000, CompletionTokens: 500},
			want:  MustUSD("0.03"),
		},
		{
			// o4-mini reasoning is billed as output: 2,000 × $1.10 = $0.0022;
			// 8,000 cached × $0.275 = $0.0022; 3,000 output (2,500 reasoning) × $4.40
			// = $0.0132. Total $0.0176.
			name: "openai o4-mini cached+reasoning", provider: "openai", model: "o4-mini",
			usage: schema.Usage{PromptTokens: 10_000, CachedTokens: 8_000, CompletionTokens: 3_000, ReasoningTokens: 2_500},
			want:  MustUSD("0.0176"),
		},
		{
			// Anthropic: input_tokens 1,000 + cache_read 20,000 + cache_creation 5,000,
			// normalised to prompt 26,000. 1,000 × $3 = $0.003; 20,000 × $0.30 = $0.006;
			// 5,000 × $3.75 = $0.01875; 800 × $15 = $0.012. Total $0.03975.
			name: "anthropic sonnet 4.5 cache read+write", provider: "anthropic", model: "claude-sonnet-4-5-20250929",
			usage: schema.Usage{PromptTokens: 26_000, CachedTokens: 20_000, CacheWriteTokens: 5_000, CompletionTokens: 800},
			want:  MustUSD("0.03975"),
		},
		{
			// Haiku 4.5: 100 × $1 = $0.0001; 50,000 × $0.10 = $0.005; 0 writes;
			// 1,234 × $5 = $0.00617. Total $0.01127.
			name: "anthropic haiku 4.5 cache read", provider: "anthropic", model: "claude-haiku-4-5",
			usage: schema.Usage{PromptTokens: 50_100, CachedTokens: 50_000, CompletionTokens: 1_234},
			want:  MustUSD("0.01127"),
		},
		{
			// Gemini: promptTokenCount 12,000 includes cachedContentTokenCount 8,000;
			// completion = candidates 300 + thoughts 700. 4,000 × $0.30 = $0.0012;
			// 8,000 × $0.03 = $0.00024; 1,000 × $2.50 = $0.0025. Total $0.00394.
			name: "gemini 2.5 flash cached+thinking", provider: "gemini", model: "gemini-2.5-flash",
			usage: schema.Usage{PromptTokens: 12_000, CachedTokens: 8_000, CompletionTokens: 1_000, ReasoningTokens: 700},
			want:  MustUSD("0.00394"),
		},
		{
			// Gemini 2.5 Pro above 200k prompt tokens: the whole request at the long rate.
			// 150,000 × $2.50 = $0.375; 100,000 × $0.25 = $0.025; 2,000 × $15 = $0.03.
			// Total $0.43.
			name: "gemini 2.5 pro long context", provider: "gemini", model: "gemini-2.5-pro",
			usage: schema.Usage{PromptTokens: 250_000, CachedTokens: 100_000, CompletionTokens: 2_000},
			want:  MustUSD("0.43"),
		},
		{
			// Rounding: 3 × $0.0375 = 112.5 nano-USD, plus 1 output × $0.15 = 150 nano:
			// 262.5 → 263 (half up, once per request).
			name: "cohere r7b rounding", provider: "cohere", model: "command-r7b-12-2024",
			usage: schema.Usage{PromptTokens: 3, CompletionTokens: 1},
			want:  263,
		},
		{
			// Inconsistent usage is clamped: cached 500 > prompt 100 counts as 100 cached.
			// 100 × $1.25 = 125,000 nano; 0 output.
			name: "clamped", provider: "openai", model: "gpt-4o",
			usage: schema.Usage{PromptTokens: 100, CachedTokens: 500, CompletionTokens: -3},
			want:  125_000,
		},
		{
			name: "unpriced", provider: "ollama", model: "llama3:8b",
			usage: schema.Usage{PromptTokens: 100, CompletionTokens: 100},
			want:  0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := c.Price(tt.provider, tt.model)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Cost(tt.usage); got != tt.want {
				t.Fatalf("Cost = %s (%d nano), want %s (%d nano)", got, got, tt.want, tt.want)
			}
		})
	}
}

// TestCostSeparateReasoningPrice covers a catalog that prices reasoning apart from output.
func TestCostSeparateReasoningPrice(t *testing.T) {
	cat, err := ParseCatalog([]byte(`schema: 1
models:
  - {id: thinker, provider: gemini, input: 0.15, output: 0.60, reasoning: 3.50, max_output_tokens: 1000, version: 2, as_of: 2026-01-02, source: test}
`))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := cat.Price("gemini", "thinker")
	// 1,000 × $0.15 = $0.00015; 400 visible × $0.60 = $0.00024; 600 × $3.50 = $0.0021.
	got := p.Cost(schema.Usage{PromptTokens: 1_000, CompletionTokens: 1_000, ReasoningTokens: 600})
	if want := MustUSD("0.00249"); got != want {
		t.Fatalf("Cost = %s, want %s", got, want)
	}
	if p.Version != "gemini/thinker@2" {
		t.Errorf("version = %q", p.Version)
	}
}

func TestWorstCase(t *testing.T) {
	c := defaultCatalog(t)
	sonnet, _ := c.Price("anthropic", "claude-sonnet-4-5")
	mini, _ := c.Price("openai", "gpt-4o-mini")
	tests := []struct {
		name           string
		prompt, maxTok int64
		prices         []Price
		want           Money
	}{
		// Prompt at the cache-write rate ($3.75 > $3): 1,000 × 3.75 = $0.00375;
		// 100 × $15 = $0.0015.
		{"max_tokens given", 1_000, 100, []Price{sonnet}, MustUSD("0.00525")},
		// No max_tokens: the model's 64,000 output tokens × $15 = $0.96.
		{"model limit", 1_000, 0, []Price{sonnet}, MustUSD("0.96375")},
		// Above 90% of the 200k band: long rates, 190,000 × $7.50 + 10 × $22.50.
		{"near long band", 190_000, 10, []Price{sonnet}, MustUSD("1.425225")},
		// The dearer of two candidate targets.
		{"worst of targets", 1_000, 100, []Price{mini, sonnet}, MustUSD("0.00525")},
		// Unknown output limit falls back: 1,000 × $0.10 + 4,096 × $0.20 via override.
		{"fallback", 1_000, 0, []Price{{Known: true, Rates: Rates{Input: MustUSD("0.1"), CachedInput: MustUSD("0.1"), CacheWrite: MustUSD("0.1"), Output: MustUSD("0.2"), Reasoning: MustUSD("0.2")}}}, MustUSD("0.0009192")},
		{"unpriced", 1_000, 100, []Price{Unpriced}, 0},
	}
	for _, tt := range tests {
		if got := WorstCaseOf(tt.prompt, tt.maxTok, 4096, tt.prices...); got != tt.want {
			t.Errorf("%s: WorstCase = %s, want %s", tt.name, got, tt.want)
		}
	}
}
