package cohere

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

// TestStatusError: Cohere's statuses and {"message"} bodies become OpenAI errors; 498
// is an authentication failure; 499 is the caller's own cancellation when the context
// is done, else a retryable upstream 499.
func TestStatusError(t *testing.T) {
	key := schema.NewSecret("co-secret-key")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name      string
		ctx       context.Context
		status    int
		header    http.Header
		body      string
		want      int
		typ, code string
		kind      apierr.Kind
		retryable bool
		after     time.Duration
		message   string
	}{
		{"bad request", nil, 400, nil, `{"id":"x","message":"invalid request: message must not be empty"}`, 400,
			"invalid_request_error", "invalid_request", apierr.KindProvider, false, 0, "invalid request: message must not be empty"},
		{"unauthorized", nil, 401, nil, `{"message":"invalid api token"}`, 401, "authentication_error", "invalid_api_key",
			apierr.KindProvider, false, 0, "invalid api token"},
		{"invalid token 498", nil, 498, nil, `{"message":"invalid token"}`, 401, "authentication_error", "invalid_api_key",
			apierr.KindProvider, false, 0, "invalid token"},
		{"payment", nil, 402, nil, `{"message":"Please add a payment method"}`, 402, "insufficient_quota", "payment_required",
			apierr.KindProvider, false, 0, "Please add a payment method"},
		{"unprocessable", nil, 422, nil, `{"message":"bad"}`, 422, "invalid_request_error", "unprocessable_entity",
			apierr.KindProvider, false, 0, "bad"},
		{"rate limited", nil, 429, http.Header{"Retry-After": {"4"}}, `{"message":"You are past the per minute request limit"}`, 429,
			"rate_limit_error", "rate_limit_exceeded", apierr.KindProvider, true, 4 * time.Second, "You are past the per minute request limit"},
		{"cancelled upstream", nil, 499, nil, `{"message":"request cancelled"}`, 499, "invalid_request_error", "client_closed_request",
			apierr.KindProvider, true, 0, "request cancelled"},
		{"cancelled by us", cancelled, 499, nil, `{"message":"request cancelled"}`, 499, "invalid_request_error", "client_closed_request",
			apierr.KindCaller, false, 0, "the client closed the request"},
		{"unavailable", nil, 503, nil, `{"message":"service unavailable"}`, 503, "upstream_error", "upstream_error",
			apierr.KindProvider, true, 0, "service unavailable"},
		{"echoed key", nil, 401, nil, `{"message":"invalid api token co-secret-key"}`, 401, "authentication_error", "invalid_api_key",
			apierr.KindProvider, false, 0, "invalid api token [REDACTED]"},
		{"not JSON", nil, 500, nil, `oops`, 500, "upstream_error", "upstream_error", apierr.KindProvider, true, 0, "upstream returned status 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			e := statusError(ctx, tt.status, h, []byte(tt.body), key, fixedNow)
			if e.Status != tt.want || e.Type != tt.typ || e.Code != tt.code || e.Kind != tt.kind ||
				e.Retryable != tt.retryable || e.RetryAfter != tt.after || e.Message != tt.message {
				t.Errorf("got %d %s %s kind %v retryable %v after %v %q", e.Status, e.Type, e.Code, e.Kind, e.Retryable,
					e.RetryAfter, e.Message)
			}
		})
	}
}

// fakeSetup serves a fake with opts and returns it and a test client pointed at it.
func fakeSetup(t *testing.T, opts fakellm.Options) (*fakellm.Server, *Client) {
	t.Helper()
	opts.Keys, opts.Models = []string{testKey}, []string{"*"}
	fake := fakellm.New(opts)
	ts := httptest.NewServer(fake)
	t.Cleanup(ts.Close)
	return fake, testClient(t, ts.URL)
}

func chatCall(body, key string) *providers.Call {
	return &providers.Call{Request: &schema.Request{Endpoint: schema.EndpointChat, Body: []byte(body)},
		Model: "command-a-03-2025", Key: schema.NewSecret(key)}
}

// TestAuthAgainstFake: the key travels as a Bearer token; a wrong or missing one is a
// 401 that does not reveal it.
func TestAuthAgainstFake(t *testing.T) {
	fake, c := fakeSetup(t, fakellm.Options{})
	body := `{"model":"r","messages":[{"role":"user","content":"Hello"}]}`
	if _, err := c.Complete(context.Background(), chatCall(body, testKey)); err != nil {
		t.Fatal(err)
	}
	if rec, _ := fake.LastRequest(); rec.Header.Get("Authorization") != "Bearer "+testKey || rec.Path != "/v2/chat" {
		t.Errorf("upstream got %s with Authorization %q", rec.Path, rec.Header.Get("Authorization"))
	}
	for _, key := range []string{"co-wrong-key", ""} {
		_, err := c.Complete(context.Background(), chatCall(body, key))
		var e *apierr.Error
		if !errors.As(err, &e) || e.Status != 401 || e.Code != "invalid_api_key" || (key != "" && strings.Contains(e.Error(), key)) {
			t.Errorf("key %q: %v, want a 401 invalid_api_key", key, err)
		}
	}
}
