package anthropic

import (
	"testing"

	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/httpclient"
	"github.com/tollgate-llm/tollgate/providers/providertest"
	"github.com/tollgate-llm/tollgate/schema"
)

// testKey is the provider credential of every test; no error may contain it.
const testKey = "sk-ant-api03-TESTKEY0123456789abcdefSECRET"

// newTestClient builds a Client against origin with the shared tuned transport.
func newTestClient(t testing.TB, origin string, headers map[string]string) *Client {
	t.Helper()
	hc := httpclient.New(httpclient.Options{})
	t.Cleanup(hc.CloseIdleConnections)
	p, err := New(providers.Config{Name: "claude", Type: "anthropic", BaseURL: origin, Headers: headers, Client: hc})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.(*Client)
}

// TestConformance runs the provider conformance suite against fakellm's Anthropic
// dialect.
func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Harness{
		Name: "anthropic",
		New: func(t testing.TB, origin string, headers map[string]string) providers.Provider {
			return newTestClient(t, origin, headers)
		},
		Key:   schema.NewSecret(testKey),
		Model: "claude-sonnet-4-5-20250929",
		Skip:  map[string]string{providertest.CaseEmbeddings: "Anthropic has no embeddings endpoint: a 400 unsupported_endpoint (TestUnsupportedEndpoints)"},
	})
}
