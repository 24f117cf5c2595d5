package openai

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
)

var fixedNow = time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)

func TestUpstreamStatusErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		want       apierr.Error
		wantSubstr string // for messages built by tollgate
	}{{
		name:   "400 context length",
		status: 400,
		body: `{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error",` +
			`"param":"messages","code":"context_length_exceeded"}}`,
		want: apierr.Error{Status: 400, Type: "invalid_request_error", Code: "context_length_exceeded",
			Param: "messages", Message: "This model's maximum context length is 8192 tokens."},
	}, {
		name:   "401 echoing the key",
		status: 401,
		body: `{"error":{"message":"Incorrect API key provided: ` + testKey + `. You can find your API key at ` +
			`https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
		want: apierr.Error{Status: 401, Type: "invalid_request_error", Code: "invalid_api_key",
			Message: "Incorrect API key provided: [REDACTED]. You can find your API key at https://platform.openai.com/account/api-keys."},
	}, {
		name:   "404 model not found",
		status: 404,
		body: "{\"error\":{\"message\":\"The model `gpt-9` does not exist or you do not have access to it.\"," +
			"\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"model_not_found\"}}",
		want: apierr.Error{Status: 404, Type: "invalid_request_error", Code: "model_not_found",
			Message: "The model `gpt-9` does not exist or you do not have access to it."},
	}, {
		name:   "429 with retry-after seconds",
		status: 429,
		header: map[string]string{"retry-after": "2", "x-ratelimit-remaining-tokens": "0"},
		body:   `{"error":{"message":"Rate limit reached for gpt-4o on tokens per min (TPM).","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`,
		want: apierr.Error{Status: 429, Type: "tokens", Code: "rate_limit_exceeded", Retryable: true,
			RetryAfter: 2 * time.Second, Message: "Rate limit reached for gpt-4o on tokens per min (TPM)."},
	}, {
		name:   "429 retry-after-ms wins over retry-after",
		status: 429,
		header: map[string]string{"retry-after-ms": "250", "retry-after": "5"},
		body:   `{"error":{"message":"You exceeded your current quota.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`,
		want: apierr.Error{Status: 429, Type: "insufficient_quota", Code: "insufficient_quota", Retryable: true,
			RetryAfter: 250 * time.Millisecond, Message: "You exceeded your current quota."},
	}, {
		name:   "429 retry-after as HTTP date and fractional",
		status: 429,
		header: map[string]string{"retry-after": fixedNow.Add(3 * time.Second).Format(http.TimeFormat)},
		body:   `not json`,
		want: apierr.Error{Status: 429, Type: "rate_limit_error", Code: "rate_limit_exceeded", Retryable: true,
			RetryAfter: 3 * time.Second},
		wantSubstr: "upstream returned status 429",
	}, {
		name:   "500 server error",
		status: 500,
		body:   `{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}`,
		want: apierr.Error{Status: 500, Type: "server_error", Code: "upstream_error", Retryable: true,
			Message: "The server had an error while processing your request."},
	}, {
		name:       "503 with an HTML body",
		status:     503,
		header:     map[string]string{"Content-Type": "text/html", "retry-after": "1.5"},
		body:       `<html><body>upstream connect error</body></html>`,
		want:       apierr.Error{Status: 503, Type: "upstream_error", Code: "upstream_error", Retryable: true, RetryAfter: 1500 * time.Millisecond},
		wantSubstr: "upstream returned status 503",
	}, {
		name:   "x-should-retry false overrides 500",
		status: 500,
		header: map[string]string{"x-should-retry": "false"},
		body:   `{"error":{"message":"boom","type":"server_error","param":null,"code":"internal"}}`,
		want:   apierr.Error{Status: 500, Type: "server_error", Code: "internal", Message: "boom"},
	}, {
		name:   "x-should-retry true overrides 400",
		status: 400,
		header: map[string]string{"x-should-retry": "true"},
		body:   `{"error":{"message":"try again","type":"invalid_request_error","param":null,"code":null}}`,
		want:   apierr.Error{Status: 400, Type: "invalid_request_error", Retryable: true, Message: "try again"},
	}, {
		name:   "vLLM top-level error",
		status: 400,
		body:   `{"object":"error","message":"max_tokens must be at least 1, got 0.","type":"BadRequestError","param":"max_tokens","code":400}`,
		want: apierr.Error{Status: 400, Type: "BadRequestError", Code: "400", Param: "max_tokens",
			Message: "max_tokens must be at least 1, got 0."},
	}, {
		name:   "mistral validation detail",
		status: 422,
		body: `{"object":"error","message":{"detail":[{"type":"extra_forbidden","loc":["body","stream_options","include_usage"],` +
			`"msg":"Extra inputs are not permitted","input":true}]},"type":"invalid_request_error","param":null,"code":null}`,
		want: apierr.Error{Status: 422, Type: "invalid_request_error",
			Message: "body.stream_options.include_usage: Extra inputs are not permitted"},
	}, {
		name:   "openrouter numeric code",
		status: 402,
		body:   `{"error":{"code":402,"message":"Insufficient credits","metadata":{"x":1}}}`,
		want:   apierr.Error{Status: 402, Type: "invalid_request_error", Code: "402", Message: "Insufficient credits"},
	}, {
		name:       "redirect becomes 502",
		status:     301,
		header:     map[string]string{"Location": "https://elsewhere.example/v1/chat/completions"},
		want:       apierr.Error{Status: 502, Type: "upstream_error", Code: "upstream_error"},
		wantSubstr: "upstream returned status 301",
	}}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			t.Run(tt.name+map[bool]string{false: "/complete", true: "/stream"}[stream], func(t *testing.T) {
				srv, _ := upstream(t, replyJSON(tt.status, tt.body, tt.header))
				c := newTestClient(t, "openai", srv.URL)
				c.now = func() time.Time { return fixedNow }
				var err error
				if stream {
					_, err = c.Stream(context.Background(), chatCall(`{"model":"a","stream":true}`, false))
				} else {
					_, err = c.Complete(context.Background(), chatCall(`{"model":"a"}`, false))
				}
				e := asAPIErr(t, err)
				want := tt.want
				if tt.wantSubstr != "" {
					if !strings.Contains(e.Message, tt.wantSubstr) {
						t.Errorf("message %q does not contain %q", e.Message, tt.wantSubstr)
					}
					want.Message = e.Message
				}
				if e.Kind != apierr.KindProvider || e.Status != want.Status || e.Type != want.Type || e.Code != want.Code ||
					e.Param != want.Param || e.Message != want.Message || e.Retryable != want.Retryable ||
					e.RetryAfter != want.RetryAfter {
					t.Errorf("got  %+v\nwant %+v", *e, want)
				}
			})
		}
	}
}

func TestBadSuccessResponses(t *testing.T) {
	tests := []struct {
		name       string
		stream     bool
		h          http.HandlerFunc
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{"non-JSON 200", false, replyJSON(200, `<html>oops</html>`, map[string]string{"Content-Type": "text/html"}),
			502, "upstream_error", "upstream returned a non-JSON response"},
		{"error object with 200", false, replyJSON(200, `{"error":{"message":"overloaded","type":"server_error","code":503}}`, nil),
			503, "503", "overloaded"},
		{"stream answered with a JSON error", true, replyJSON(200, `{"error":{"message":"no credits","code":402}}`, nil),
			402, "402", "no credits"},
		{"stream answered with a vLLM error", true, replyJSON(200, `{"object":"error","message":"bad","type":"BadRequestError","code":400}`, nil),
			400, "400", "bad"},
		{"stream answered with plain text", true, replyJSON(200, `hello`, map[string]string{"Content-Type": "text/plain"}),
			502, "upstream_error", "upstream did not answer with an event stream"},
		{"body over 64 MiB", false, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "67108865")
			w.WriteHeader(200)
		}, 502, "upstream_error", "upstream response is larger than 64 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := upstream(t, tt.h)
			c := newTestClient(t, "openrouter", srv.URL)
			var err error
			if tt.stream {
				_, err = c.Stream(context.Background(), chatCall(`{"model":"a","stream":true}`, false))
			} else {
				_, err = c.Complete(context.Background(), chatCall(`{"model":"a"}`, false))
			}
			e := asAPIErr(t, err)
			if e.Status != tt.wantStatus || e.Code != tt.wantCode || e.Message != tt.wantMsg || e.Kind != apierr.KindProvider {
				t.Errorf("got %d %q %q, want %d %q %q", e.Status, e.Code, e.Message, tt.wantStatus, tt.wantCode, tt.wantMsg)
			}
		})
	}
}

func TestTransportErrors(t *testing.T) {
	hang := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

	t.Run("deadline while the upstream hangs is a retryable 504", func(t *testing.T) {
		srv, _ := upstream(t, hang)
		c := newTestClient(t, "openai", srv.URL+"/v1")
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := c.Complete(ctx, chatCall(`{"model":"a"}`, false))
		e := asAPIErr(t, err)
		if e.Status != 504 || e.Code != "upstream_timeout" || !e.Retryable || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %+v", *e)
		}
	})

	t.Run("client gone is a 499 wrapping context.Canceled", func(t *testing.T) {
		srv, _ := upstream(t, hang)
		c := newTestClient(t, "openai", srv.URL)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := c.Stream(ctx, chatCall(`{"model":"a","stream":true}`, false))
		e := asAPIErr(t, err)
		if e.Status != StatusClientClosed || e.Code != "client_closed_request" || e.Kind != apierr.KindCaller ||
			e.Retryable || !errors.Is(err, context.Canceled) {
			t.Errorf("got %+v", *e)
		}
	})

	t.Run("connection refused is a retryable 502 without URL user info or key", func(t *testing.T) {
		srv, _ := upstream(t, hang)
		base := strings.Replace(srv.URL, "://", "://admin:"+testKey+"@", 1) + "/v1"
		srv.Close()
		c := newTestClient(t, "openai", base)
		_, err := c.Complete(context.Background(), chatCall(`{"model":"a"}`, false))
		e := asAPIErr(t, err)
		var opErr *net.OpError
		if e.Status != 502 || !e.Retryable || e.Kind != apierr.KindProvider || !errors.As(err, &opErr) {
			t.Errorf("got %+v", *e)
		}
		if strings.Contains(e.Error(), "admin") {
			t.Errorf("error reveals the URL's user info: %v", e)
		}
	})
}

func TestRetryAfterParsing(t *testing.T) {
	tests := []struct {
		header map[string]string
		want   time.Duration
	}{
		{map[string]string{"retry-after-ms": "1500.5"}, 1500500 * time.Microsecond},
		{map[string]string{"retry-after": "0.25"}, 250 * time.Millisecond},
		{map[string]string{"retry-after": "-3"}, 0},
		{map[string]string{"retry-after": "1e300"}, maxRetryAfter},
		{map[string]string{"retry-after": "NaN"}, 0},
		{map[string]string{"retry-after": fixedNow.Add(-time.Minute).Format(http.TimeFormat)}, 0},
		{map[string]string{"retry-after": "soon"}, 0},
		{map[string]string{"retry-after-ms": "x", "retry-after": "2"}, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(strings.Join(flatten(tt.header), "="), func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			if got := retryAfter(h, fixedNow); got != tt.want {
				t.Errorf("retryAfter = %v, want %v", got, tt.want)
			}
		})
	}
}

func flatten(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k, v)
	}
	return out
}
