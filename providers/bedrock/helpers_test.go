package bedrock

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/httpclient"
	"github.com/tollgate-llm/tollgate/providers/providertest"
	"github.com/tollgate-llm/tollgate/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Credentials every test uses; no error may contain them. The IAM pair is AWS's
// documentation example.
const (
	testAccessKey = "AKIAIOSFODNN7EXAMPLE"
	testSecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testIAMKey    = testAccessKey + ":" + testSecretKey
	testAPIKey    = "ABSKQmVkcm9ja0FQSUtleS1leGFtcGxlLWtleS0wMDAwMDAwMDAwMDA="
	testModel     = "anthropic.claude-3-5-haiku-20241022-v1:0"
	testRegion    = "us-west-2"
)

// newProvider builds a Bedrock provider against base (a fakellm or httptest origin).
func newProvider(t testing.TB, base string, headers map[string]string) *Client {
	t.Helper()
	hc := httpclient.New(httpclient.Options{})
	t.Cleanup(hc.CloseIdleConnections)
	p, err := New(providers.Config{Name: "bedrock-test", Type: "bedrock", BaseURL: base, Region: testRegion,
		Headers: headers, Client: hc})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.(*Client)
}

func chatCall(body string, key string, includeUsage bool) *providers.Call {
	return &providers.Call{
		Request: &schema.Request{ID: "req-1", Endpoint: schema.EndpointChat, Model: "my-route",
			IncludeUsage: includeUsage, Body: []byte(body)},
		Model: testModel,
		Key:   schema.NewSecret(key),
	}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	providertest.Golden(t, filepath.Join("testdata", name), got, *update)
}
