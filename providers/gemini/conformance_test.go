package gemini

import (
	"testing"

	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/httpclient"
	"github.com/tollgate-llm/tollgate/providers/providertest"
	"github.com/tollgate-llm/tollgate/schema"
)

// testKey is the AI Studio key the fake accepts in tests.
const testKey = "AIzaSyFakeKeyForConformance0123456789"

func newTestProvider(t testing.TB, origin string, headers map[string]string) providers.Provider {
	hc := httpclient.New(httpclient.Options{})
	t.Cleanup(hc.CloseIdleConnections)
	p, err := New(providers.Config{Name: "gemini", Type: "gemini", BaseURL: origin, Headers: headers, Client: hc})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// TestConformance runs the provider conformance suite against fakellm's Gemini
// dialect. The model is a Gemini 3 one, on which the fake enforces thought signatures
// on replayed function calls.
func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Harness{
		Name:  "gemini",
		New:   newTestProvider,
		Key:   schema.NewSecret(testKey),
		Model: "gemini-3-flash-preview",
	})
}
