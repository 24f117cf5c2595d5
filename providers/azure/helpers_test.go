package azure

import (
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/httpclient"
	"github.com/tollgate-llm/tollgate/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testKey is an Azure-style API key (32 hex digits); no error may contain it.
const testKey = "0123456789abcdef0123456789abcdef"

// seen is what a test upstream received.
type seen struct {
	mu     sync.Mutex
	path   string
	query  string
	header http.Header
	body   []byte
}

func (s *seen) get() (path, query string, header http.Header, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.path, s.query, s.header, s.body
}

// upstream serves h after recording each request.
func upstream(t *testing.T, h http.HandlerFunc) (*httptest.Server, *seen) {
	t.Helper()
	rec := &seen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.path, rec.query, rec.header, rec.body = r.URL.Path, r.URL.RawQuery, r.Header.Clone(), b
		rec.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, rec
}

// newProvider builds an Azure provider against base.
func newProvider(t testing.TB, base, version string, headers map[string]string) providers.Provider {
	t.Helper()
	hc := httpclient.New(httpclient.Options{})
	t.Cleanup(hc.CloseIdleConnections)
	p, err := New(providers.Config{Name: "azure-test", Type: "azure", BaseURL: base, APIVersion: version,
		Headers: headers, Client: hc})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func call(endpoint schema.Endpoint, body string, includeUsage bool) *providers.Call {
	return &providers.Call{
		Request: &schema.Request{ID: "req-1", Endpoint: endpoint, Model: "my-route", IncludeUsage: includeUsage,
			Body: []byte(body)},
		Model: "gpt-4o-prod",
		Key:   schema.NewSecret(testKey),
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
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n got:\n%s\nwant:\n%s", name, got, want)
	}
}
