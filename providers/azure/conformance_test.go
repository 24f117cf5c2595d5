package azure

import (
	"testing"

	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/providertest"
	"github.com/tollgate-llm/tollgate/schema"
)

// TestConformance runs the provider conformance suite against fakellm's Azure dialect,
// on the classic deployment route and on the v1 route.
func TestConformance(t *testing.T) {
	for _, route := range []struct{ name, suffix, version string }{
		{"classic", "", ""},
		{"v1", "/openai/v1", ""},
	} {
		t.Run(route.name, func(t *testing.T) {
			providertest.Run(t, providertest.Harness{
				Name: "azure",
				New: func(t testing.TB, origin string, headers map[string]string) providers.Provider {
					return newProvider(t, origin+route.suffix, route.version, headers)
				},
				Key:   schema.NewSecret(testKey),
				Model: "gpt-4o-mini",
			})
		})
	}
}
