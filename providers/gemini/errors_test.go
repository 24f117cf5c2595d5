package gemini

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

// TestStatusError: Google's error bodies become OpenAI errors with the right status,
// classified by the typed details (ErrorInfo reason, RetryInfo), never by the text.
func TestStatusError(t *testing.T) {
	key := schema.NewSecret("AIzaSecretKey123")
	tests := []struct {
		name      string
		status    int
		header    http.Header
		body      string
		want      int
		typ, code string
		retryable bool
		after     time.Duration
		message   string
	}{
		{"bad key", 400, nil, `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT",
			"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}`,
			401, "authentication_error", "invalid_api_key", false, 0, "API key not valid. Please pass a valid API key."},
		{"expired key", 400, nil, `{"error":{"code":400,"message":"API key expired. Please renew the API key.","status":"INVALID_ARGUMENT",
			"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_EXPIRED"}]}}`,
			401, "authentication_error", "invalid_api_key", false, 0, "API key expired. Please renew the API key."},
		{"same words without the typed reason stay a 400", 400, nil,
			`{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}`,
			400, "invalid_request_error", "invalid_argument", false, 0, "API key not valid. Please pass a valid API key."},
		{"quota with RetryInfo", 429, http.Header{"Retry-After": {"3"}}, `{"error":{"code":429,"message":"You exceeded your current quota","status":"RESOURCE_EXHAUSTED",
			"details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"36s"}]}}`,
			429, "rate_limit_error", "resource_exhausted", true, 36 * time.Second, "You exceeded your current quota"},
		{"fractional delay", 429, nil, `{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"}]}}`,
			429, "rate_limit_error", "resource_exhausted", true, 1500 * time.Millisecond, "slow down"},
		{"absurd delay is capped", 429, nil, `{"error":{"code":429,"message":"x","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"99999999999s"}]}}`,
			429, "rate_limit_error", "resource_exhausted", true, 24 * time.Hour, "x"},
		{"retry-after header without RetryInfo", 429, http.Header{"Retry-After": {"2"}}, `{"error":{"code":429,"message":"x","status":"RESOURCE_EXHAUSTED"}}`,
			429, "rate_limit_error", "resource_exhausted", true, 2 * time.Second, "x"},
		{"permission", 403, nil, `{"error":{"code":403,"message":"Method doesn't allow unregistered callers","status":"PERMISSION_DENIED"}}`,
			403, "permission_error", "permission_denied", false, 0, "Method doesn't allow unregistered callers"},
		{"not found", 404, nil, `{"error":{"code":404,"message":"models/x is not found","status":"NOT_FOUND"}}`,
			404, "invalid_request_error", "not_found", false, 0, "models/x is not found"},
		{"overloaded", 503, nil, `{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}`,
			503, "upstream_error", "unavailable", true, 0, "The model is overloaded."},
		{"internal", 500, nil, `{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}`,
			500, "upstream_error", "internal", true, 0, "An internal error has occurred."},
		{"echoed key is redacted", 400, nil, `{"error":{"code":400,"message":"bad key AIzaSecretKey123","status":"INVALID_ARGUMENT"}}`,
			400, "invalid_request_error", "invalid_argument", false, 0, "bad key [REDACTED]"},
		{"not JSON", 502, nil, `<html>Bad Gateway</html>`, 502, "upstream_error", "", true, 0, "upstream returned status 502"},
		{"a redirect is a 502", 302, nil, ``, 502, "upstream_error", "", true, 0, "upstream returned status 302"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			e := statusError(tt.status, h, []byte(tt.body), key, fixedNow)
			if e.Status != tt.want || e.Type != tt.typ || e.Code != tt.code || e.Retryable != tt.retryable ||
				e.RetryAfter != tt.after || e.Message != tt.message || e.Kind != apierr.KindProvider {
				t.Errorf("got %d %s %s retryable %v after %v %q kind %v", e.Status, e.Type, e.Code, e.Retryable,
					e.RetryAfter, e.Message, e.Kind)
			}
		})
	}
}

// fakeSetup serves a fake with opts and returns it and a test client pointed at it.
func fakeSetup(t *testing.T, opts fakellm.Options) (*fakellm.Server, *Client) {
	t.Helper()
	if opts.Keys == nil {
		opts.Keys = []string{testKey}
	}
	opts.Models = []string{"*"}
	fake := fakellm.New(opts)
	ts := httptest.NewServer(fake)
	t.Cleanup(ts.Close)
	return fake, testClient(t, ts.URL)
}

func chatCall(body string, key string) *providers.Call {
	return &providers.Call{Request: &schema.Request{Endpoint: schema.EndpointChat, Body: []byte(body)},
		Model: "gemini-2.5-flash", Key: schema.NewSecret(key)}
}

const helloBody = `{"model":"route","messages":[{"role":"user","content":"Hello"}]}`

// TestAuthAgainstFake: the key travels in x-goog-api-key and never in the URL; a wrong
// key (Gemini's 400 API_KEY_INVALID) is a 401, a missing one Gemini's 403; a rate
// limit's RetryInfo becomes RetryAfter.
func TestAuthAgainstFake(t *testing.T) {
	fake, c := fakeSetup(t, fakellm.Options{RateLimitRequests: 2})
	if _, err := c.Complete(context.Background(), chatCall(helloBody, testKey)); err != nil {
		t.Fatal(err)
	}
	rec, _ := fake.LastRequest()
	if rec.Header.Get("x-goog-api-key") != testKey || strings.Contains(rec.RawQuery, testKey) || rec.Header.Get("Authorization") != "" {
		t.Errorf("key not (only) in x-goog-api-key: query %q headers %v", rec.RawQuery, rec.Header)
	}
	for _, tc := range []struct {
		key    string
		status int
	}{{"AIzaWrongKey", 401}, {"", 403}} {
		_, err := c.Complete(context.Background(), chatCall(helloBody, tc.key))
		var e *apierr.Error
		if !errors.As(err, &e) || e.Status != tc.status || e.Retryable {
			t.Errorf("key %q: %v, want %d not retryable", tc.key, err, tc.status)
		}
	}
	_, _ = c.Complete(context.Background(), chatCall(helloBody, testKey))
	_, err := c.Complete(context.Background(), chatCall(helloBody, testKey))
	var e *apierr.Error
	if !errors.As(err, &e) || e.Status != 429 || !e.Retryable || e.RetryAfter <= 0 || e.Code != "resource_exhausted" {
		t.Fatalf("rate limited: %v (%+v), want a retryable 429 with RetryAfter", err, e)
	}
}
