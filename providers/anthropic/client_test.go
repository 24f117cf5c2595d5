package anthropic

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

const textAnswer = `{"id":"msg_1","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[{"type":"text","text":"hi"}],` +
	`"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}`

// upstream is an httptest server that records the last request and answers with h.
func upstream(t *testing.T, h http.HandlerFunc) (*httptest.Server, func() (*http.Request, string)) {
	t.Helper()
	var mu sync.Mutex
	var last *http.Request
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		last, body = r.Clone(context.Background()), string(b)
		mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, func() (*http.Request, string) { mu.Lock(); defer mu.Unlock(); return last, body }
}

func reply(status int, body string, headers map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func chatCall(body string) *providers.Call {
	return &providers.Call{Request: &schema.Request{ID: "r1", Endpoint: schema.EndpointChat, Model: "route", Body: []byte(body)},
		Model: "claude-haiku-4-5", Key: schema.NewSecret(testKey)}
}

const hello = `{"model":"route","messages":[{"role":"user","content":"hi"}]}`

// TestRequestHeaders: the key travels in x-api-key only, with anthropic-version
// (configured or default) and the operator's headers, to {base}/v1/messages.
func TestRequestHeaders(t *testing.T) {
	for _, tc := range []struct{ configured, want string }{{"", DefaultVersion}, {"2023-01-01", "2023-01-01"}} {
		srv, last := upstream(t, reply(200, textAnswer, nil))
		p, err := New(providers.Config{Name: "c", BaseURL: srv.URL + "/", APIVersion: tc.configured,
			Headers: map[string]string{"anthropic-beta": "prompt-caching-2024-07-31", "X-Api-Key": "operator-must-not-win"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Complete(t.Context(), chatCall(hello)); err != nil {
			t.Fatalf("Complete: %v", err)
		}
		r, _ := last()
		if r.URL.Path != "/v1/messages" || r.URL.RawQuery != "" || r.Method != http.MethodPost {
			t.Errorf("request %s %s?%s", r.Method, r.URL.Path, r.URL.RawQuery)
		}
		h := r.Header
		if h.Get("X-Api-Key") != testKey || h.Get("Authorization") != "" || h.Get("Anthropic-Version") != tc.want ||
			h.Get("Anthropic-Beta") != "prompt-caching-2024-07-31" || h.Get("Content-Type") != "application/json" {
			t.Errorf("headers: version %q beta %q auth %q key ok %v", h.Get("Anthropic-Version"), h.Get("Anthropic-Beta"),
				h.Get("Authorization"), h.Get("X-Api-Key") == testKey)
		}
	}
}

func TestNewRejectsBadBaseURL(t *testing.T) {
	for _, base := range []string{"ftp://x", "api.anthropic.com", "https://x/?key=1", "://"} {
		if _, err := New(providers.Config{Name: "c", BaseURL: base}); err == nil {
			t.Errorf("New accepted base URL %q", base)
		}
	}
	p, err := New(providers.Config{Name: "c"})
	if err != nil || p.(*Client).base != DefaultBaseURL {
		t.Errorf("default base: %v %v", p, err)
	}
}

// TestStatusErrors: upstream errors keep their status, get OpenAI's type and code, the
// right retry advice, and never reveal the key even when the upstream echoes it.
func TestStatusErrors(t *testing.T) {
	body := func(typ, msg string) string {
		return `{"type":"error","error":{"type":"` + typ + `","message":"` + msg + `"},"request_id":"req_1"}`
	}
	tests := []struct {
		name      string
		status    int
		body      string
		headers   map[string]string
		typ, code string
		retryable bool
		wait      time.Duration
	}{
		{"bad request", 400, body("invalid_request_error", "max_tokens: Field required"), nil, "invalid_request_error", "", false, 0},
		{"bad key echoed", 401, body("authentication_error", "invalid x-api-key "+testKey), nil, "authentication_error", "invalid_api_key", false, 0},
		{"not found", 404, body("not_found_error", "model: claude-x"), nil, "invalid_request_error", "not_found", false, 0},
		{"rate limited", 429, body("rate_limit_error", "slow down"), map[string]string{"retry-after": "7"}, "rate_limit_error", "rate_limit_exceeded", true, 7 * time.Second},
		{"overloaded", 529, body("overloaded_error", "Overloaded"), nil, "upstream_error", "overloaded", true, 0},
		{"api error", 500, body("api_error", "Internal server error"), map[string]string{"retry-after-ms": "250"}, "upstream_error", "upstream_error", true, 250 * time.Millisecond},
		{"should not retry", 503, body("api_error", "x"), map[string]string{"x-should-retry": "false"}, "upstream_error", "upstream_error", false, 0},
		{"should retry", 400, body("invalid_request_error", "x"), map[string]string{"x-should-retry": "true"}, "invalid_request_error", "", true, 0},
		{"html body", 502, "<html>bad gateway</html>", nil, "upstream_error", "", true, 0},
		{"unknown type", 418, body("teapot_error", "short and stout"), nil, "teapot_error", "", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := upstream(t, reply(tt.status, tt.body, tt.headers))
			_, err := newTestClient(t, srv.URL, nil).Complete(t.Context(), chatCall(hello))
			e := asAPIError(t, err)
			if e.Status != tt.status || e.Kind != apierr.KindProvider || e.Type != tt.typ || e.Code != tt.code ||
				e.Retryable != tt.retryable || e.RetryAfter != tt.wait {
				t.Errorf("got status %d kind %v type %q code %q retryable %v wait %v", e.Status, e.Kind, e.Type, e.Code, e.Retryable, e.RetryAfter)
			}
		})
	}
}

func asAPIError(t *testing.T, err error) *apierr.Error {
	t.Helper()
	var e *apierr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not *apierr.Error", err, err)
	}
	for _, s := range []string{e.Error(), e.Message, e.Type, e.Code} {
		if strings.Contains(s, testKey) {
			t.Fatalf("error reveals the key: %q", s)
		}
	}
	return e
}

// TestUnsupportedEndpoints: embeddings and legacy completions are a 400 that names the
// provider, sent nowhere.
func TestUnsupportedEndpoints(t *testing.T) {
	srv, last := upstream(t, reply(200, textAnswer, nil))
	c := newTestClient(t, srv.URL, nil)
	for _, ep := range []schema.Endpoint{schema.EndpointEmbeddings, schema.EndpointCompletions} {
		call := chatCall(`{"model":"route","input":"x"}`)
		call.Request.Endpoint = ep
		_, err := c.Complete(t.Context(), call)
		e := asAPIError(t, err)
		if e.Status != 400 || e.Code != "unsupported_endpoint" || !strings.Contains(e.Message, `"claude"`) {
			t.Errorf("%s: %+v", ep, e)
		}
		if _, err := c.Stream(t.Context(), call); asAPIError(t, err).Code != "unsupported_endpoint" {
			t.Errorf("%s streamed: %v", ep, err)
		}
	}
	if r, _ := last(); r != nil {
		t.Errorf("an unsupported endpoint reached the upstream: %s", r.URL.Path)
	}
}

// TestBadResponses: a 200 that is not a Message is a 502, as is a stream answered with
// JSON instead of events.
func TestBadResponses(t *testing.T) {
	for _, body := range []string{"<html>", `{"type":"error"}`, `{"type":"message","role":"assistant","content":[]}`, `[]`} {
		srv, _ := upstream(t, reply(200, body, nil))
		_, err := newTestClient(t, srv.URL, nil).Complete(t.Context(), chatCall(hello))
		if e := asAPIError(t, err); e.Status != http.StatusBadGateway {
			t.Errorf("%s: status %d", body, e.Status)
		}
	}
	srv, _ := upstream(t, reply(200, textAnswer, nil))
	_, err := newTestClient(t, srv.URL, nil).Stream(t.Context(), chatCall(hello))
	if e := asAPIError(t, err); e.Status != http.StatusBadGateway {
		t.Errorf("JSON answer to a stream: status %d", e.Status)
	}
}

// TestRateLimitHeaders: anthropic-ratelimit-* headers are kept for observability.
func TestRateLimitHeaders(t *testing.T) {
	srv, _ := upstream(t, reply(200, textAnswer, map[string]string{
		"anthropic-ratelimit-requests-remaining": "49", "anthropic-ratelimit-tokens-reset": "2026-01-01T00:00:00Z", "x-other": "1"}))
	resp, err := newTestClient(t, srv.URL, nil).Complete(t.Context(), chatCall(hello))
	if err != nil {
		t.Fatal(err)
	}
	if resp.RateLimit["anthropic-ratelimit-requests-remaining"] != "49" || resp.RateLimit["anthropic-ratelimit-tokens-reset"] == "" ||
		len(resp.RateLimit) != 2 {
		t.Errorf("rate limits %v", resp.RateLimit)
	}
}
