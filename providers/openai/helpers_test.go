package openai

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/httpclient"
	"github.com/tollgate-llm/tollgate/schema"
)

// testKey is the provider credential used by every test; no error may contain it.
const testKey = "sk-proj-TESTKEY0123456789abcdefSECRET"

// recorder keeps the last request an upstream received.
type recorder struct {
	mu     sync.Mutex
	method string
	path   string
	header http.Header
	body   []byte
}

func (r *recorder) record(req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.method, r.path, r.header, r.body = req.Method, req.URL.Path, req.Header.Clone(), body
}

func (r *recorder) last() (method, path string, header http.Header, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.method, r.path, r.header, r.body
}

// upstream starts an httptest server whose handler first records the request.
func upstream(t *testing.T, h http.HandlerFunc) (*httptest.Server, *recorder) {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, rec
}

// newTestClient builds a Client of type typ against base with the real tuned transport.
func newTestClient(t *testing.T, typ, base string) *Client {
	t.Helper()
	hc := httpclient.New(httpclient.Options{})
	t.Cleanup(hc.CloseIdleConnections)
	p, err := New(providers.Config{Name: "test", Type: typ, BaseURL: base, Client: hc,
		Headers: map[string]string{"X-Title": "tollgate-test"}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.(*Client)
}

func chatCall(body string, includeUsage bool) *providers.Call {
	return &providers.Call{
		Request: &schema.Request{ID: "req-1", Endpoint: schema.EndpointChat, Model: "my-route",
			IncludeUsage: includeUsage, Body: []byte(body)},
		Model: "gpt-4o",
		Key:   schema.NewSecret(testKey),
	}
}

// replaySSE answers with a recorded stream, flushing after every line as a real
// upstream does after every event.
func replaySSE(t *testing.T, file string) http.HandlerFunc {
	data := readTestdata(t, file)
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		for _, line := range bytes.SplitAfter(data, []byte("\n")) {
			_, _ = w.Write(line)
			w.(http.Flusher).Flush()
		}
	}
}

func replyJSON(status int, body string, header map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// asAPIErr asserts err is an *apierr.Error that does not reveal the credential.
func asAPIErr(t *testing.T, err error) *apierr.Error {
	t.Helper()
	if err == nil {
		t.Fatal("got nil error, want *apierr.Error")
	}
	e, ok := err.(*apierr.Error)
	if !ok {
		t.Fatalf("error %T (%v) is not *apierr.Error", err, err)
	}
	assertNoKey(t, e)
	return e
}

func assertNoKey(t *testing.T, e *apierr.Error) {
	t.Helper()
	for _, s := range []string{e.Error(), e.Message, e.Code, e.Type, e.Param} {
		if strings.Contains(s, testKey) {
			t.Fatalf("error reveals the provider key: %q", s)
		}
	}
}
