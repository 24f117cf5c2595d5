package openai

import (
	"testing"

	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/httpclient"
	"github.com/tollgate-llm/tollgate/providers/providertest"
	"github.com/tollgate-llm/tollgate/schema"
)

// TestConformance runs the provider conformance suite against fakellm's OpenAI dialect.
func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Harness{
		Name: "openai",
		New: func(t testing.TB, origin string, headers map[string]string) providers.Provider {
			hc := httpclient.New(httpclient.Options{})
			t.Cleanup(hc.CloseIdleConnections)
			p, err := New(providers.Config{Name: "openai", Type: "openai", BaseURL: origin + "/v1",
				Headers: headers, Client: hc})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			return p
		},
		Key:   schema.NewSecret(testKey),
		Model: "gpt-4o-mini",
	})
}
