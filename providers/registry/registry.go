// Package registry maps provider type names to their constructors. The map is explicit:
// adding a dialect means adding a line here, nothing registers itself in init.
package registry

import (
	"fmt"
	"sort"

	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/anthropic"
	"github.com/tollgate-llm/tollgate/providers/azure"
	"github.com/tollgate-llm/tollgate/providers/bedrock"
	"github.com/tollgate-llm/tollgate/providers/cohere"
	"github.com/tollgate-llm/tollgate/providers/gemini"
	"github.com/tollgate-llm/tollgate/providers/openai"
)

// Factory builds a provider from its configuration.
type Factory func(cfg providers.Config) (providers.Provider, error)

func factories() map[string]Factory {
	m := map[string]Factory{
		"openai":    openai.New,
		"anthropic": anthropic.New,
		"gemini":    gemini.New,
		"cohere":    cohere.New,
		"azure":     azure.New,
		"bedrock":   bedrock.New,
	}
	for _, name := range openai.CatalogNames() {
		m[name] = openai.New
	}
	return m
}

// Known reports whether t is a provider type tollgate can build.
func Known(t string) bool {
	_, ok := factories()[t]
	return ok
}

// Types lists every known provider type, sorted.
func Types() []string {
	f := factories()
	out := make([]string, 0, len(f))
	for k := range f {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// New builds the provider described by cfg.
func New(cfg providers.Config) (providers.Provider, error) {
	f, ok := factories()[cfg.Type]
	if !ok {
		return nil, fmt.Errorf("provider %q: unknown type %q", cfg.Name, cfg.Type)
	}
	return f(cfg)
}
