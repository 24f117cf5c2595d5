package configs

import "github.com/tollgate-llm/tollgate/providers/registry"

// detectRule is one provider tollgate sets up on its own when its API-key variable is
// set: the type (also used as the provider's name), the variables tried in order,
// and the well-known models routed to it under their own names.
type detectRule struct {
	typ    string
	vars   []string
	models []string
}

// detectRules is the order providers are detected in; when two rules list the same
// model name the first one keeps it.
var detectRules = []detectRule{
	{"openai", []string{"OPENAI_API_KEY"}, []string{"gpt-4o", "gpt-4o-mini", "gpt-4.1",
		"gpt-4.1-mini", "gpt-4.1-nano", "o4-mini", "text-embedding-3-small", "text-embedding-3-large"}},
	{"anthropic", []string{"ANTHROPIC_API_KEY"}, []string{"claude-sonnet-4-5", "claude-haiku-4-5",
		"claude-opus-4-1"}},
	{"gemini", []string{"GEMINI_API_KEY", "GOOGLE_API_KEY"}, []string{"gemini-2.5-pro",
		"gemini-2.5-flash", "gemini-2.0-flash"}},
	{"mistral", []string{"MISTRAL_API_KEY"}, []string{"mistral-large-latest", "mistral-small-latest",
		"codestral-latest", "mistral-embed"}},
	{"groq", []string{"GROQ_API_KEY"}, []string{"llama-3.3-70b-versatile", "llama-3.1-8b-instant"}},
	{"deepseek", []string{"DEEPSEEK_API_KEY"}, []string{"deepseek-chat", "deepseek-reasoner"}},
	{"together", []string{"TOGETHER_API_KEY"}, []string{"meta-llama/Llama-3.3-70B-Instruct-Turbo"}},
	{"fireworks", []string{"FIREWORKS_API_KEY"}, []string{"accounts/fireworks/models/llama-v3p3-70b-instruct"}},
	{"xai", []string{"XAI_API_KEY"}, []string{"grok-4", "grok-3-mini"}},
	{"openrouter", []string{"OPENROUTER_API_KEY"}, []string{"openrouter/auto"}},
	{"perplexity", []string{"PERPLEXITY_API_KEY", "PPLX_API_KEY"}, []string{"sonar", "sonar-pro"}},
	{"cerebras", []string{"CEREBRAS_API_KEY"}, []string{"llama-3.3-70b"}},
}

// DetectProviders returns one provider for every API-key variable that getenv reports
// set (OPENAI_API_KEY → "openai", GROQ_API_KEY → "groq", ...), keyed by an env:
// reference to that variable, and a few well-known models for each, routed under
// their own names. Only types the provider registry knows are returned, so
// ANTHROPIC_API_KEY and GEMINI_API_KEY are skipped until the anthropic and gemini
// dialects are registered; they then start working with no change here.
func DetectProviders(getenv func(string) string) ([]Provider, []Model) {
	return detect(getenv, registry.Known)
}

func detect(getenv func(string) string, known func(string) bool) ([]Provider, []Model) {
	var provs []Provider
	var models []Model
	seen := make(map[string]bool)
	for _, r := range detectRules {
		v := firstSet(getenv, r.vars)
		if v == "" || !known(r.typ) {
			continue
		}
		provs = append(provs, Provider{
			Name: r.typ,
			Type: r.typ,
			Keys: []ProviderKey{{Secret: EnvRef(v)}},
		})
		for _, m := range r.models {
			if seen[m] {
				continue
			}
			seen[m] = true
			models = append(models, Model{Name: m, Targets: []Target{{Provider: r.typ, Model: m}}})
		}
	}
	return provs, models
}

// firstSet returns the first of vars that getenv reports non-empty.
func firstSet(getenv func(string) string, vars []string) string {
	for _, v := range vars {
		if getenv(v) != "" {
			return v
		}
	}
	return ""
}

// envVarFor returns the conventional API-key variable of a provider type, or "".
func envVarFor(typ string) string {
	for _, r := range detectRules {
		if r.typ == typ {
			return r.vars[0]
		}
	}
	return ""
}
