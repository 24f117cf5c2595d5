package cohere

import (
	"testing"

	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/httpclient"
	"github.com/tollgate-llm/tollgate/providers/providertest"
	"github.com/tollgate-llm/tollgate/schema"
)

// testKey is the Cohere key the fake accepts in tests.
const testKey = "co-fake-conformance-key-0123456789abcdef"

func newTestProvider(t testing.TB, origin string, headers map[string]string) providers.Provider {
	hc := httpclient.New(httpclient.Options{})
	t.Cleanup(hc.CloseIdleConnections)
	p, err := New(providers.Config{Name: "cohere", Type: "cohere", BaseURL: origin, Headers: headers, Client: hc})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// TestConformance runs the provider conformance suite against fakellm's Cohere
// dialect. Cohere v2 takes image_url content parts (its vision models), so no case is
// skipped.
func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Harness{
		Name:  "cohere",
		New:   newTestProvider,
		Key:   schema.NewSecret(testKey),
		Model: "command-a-03-2025",
	})
}
