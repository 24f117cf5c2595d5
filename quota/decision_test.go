package quota

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
)

// TestFormatReset checks OpenAI's duration format, as in its docs' "1s" and "6m0s" and
// its answers' "20ms" and "8.64s".
func TestFormatReset(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                       "0s",
		-time.Second:            "0s",
		20 * time.Millisecond:   "20ms",
		1500 * time.Microsecond: "2ms",
		time.Second:             "1s",
		8640 * time.Millisecond: "8.64s",
		6 * time.Minute:         "6m0s",
		61 * time.Second:        "1m1s",
	} {
		if got := formatReset(d); got != want {
			t.Errorf("formatReset(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestSetHeaders(t *testing.T) {
	h := http.Header{}
	SetHeaders(h, &Decision{Allowed: true,
		Requests: Window{Limit: 60, Remaining: 59, Reset: time.Second},
		Tokens:   Window{Limit: 150000, Remaining: 149984, Reset: 6 * time.Minute}})
	want := map[string]string{
		"x-ratelimit-limit-requests": "60", "x-ratelimit-remaining-requests": "59", "x-ratelimit-reset-requests": "1s",
		"x-ratelimit-limit-tokens": "150000", "x-ratelimit-remaining-tokens": "149984", "x-ratelimit-reset-tokens": "6m0s",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	// Only the kinds that are limited get headers.
	h = http.Header{}
	SetHeaders(h, &Decision{Allowed: true, Requests: Window{Limit: 5, Remaining: 0, Reset: 20 * time.Millisecond}})
	if len(h) != 3 || h.Get("x-ratelimit-reset-requests") != "20ms" {
		t.Errorf("requests-only headers: %v", h)
	}
	SetHeaders(h, nil)
}

func TestDenialErrors(t *testing.T) {
	tests := []struct {
		name     string
		den      Denial
		typ      string
		retry    time.Duration
		contains []string
	}{
		{"requests", Denial{Scope: "key:AbC123dEf456", Kind: KindRequests, Limit: 60, Used: 60, Requested: 1, RetryAfter: 12 * time.Second},
			"requests", 12 * time.Second,
			[]string{"Rate limit reached for key AbC123dEf456 on requests per minute: limit 60, used 60", "Try again in 12s."}},
		{"tokens", Denial{Scope: "project:acme", Kind: KindTokens, Limit: 1000, Used: 900, Requested: 200, RetryAfter: 1500 * time.Millisecond},
			"tokens", 1500 * time.Millisecond,
			[]string{"project acme on tokens per minute: limit 1000, used 900, requested 200", "Try again in 1.5s."}},
		{"concurrency", Denial{Scope: "model:gpt-4o", Kind: KindConcurrency, Limit: 5, Used: 5, Requested: 1, RetryAfter: time.Second},
			"requests", time.Second, []string{"model gpt-4o on concurrent requests: limit 5, in flight 5"}},
		{"too large", Denial{Scope: "key:k", Kind: KindTokens, Limit: 1000, Used: 0, Requested: 5000},
			"tokens", 0, []string{"Request too large for key k on tokens per minute: limit 1000, requested 5000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := denialError(&tt.den)
			if e.Status != 429 || e.Type != tt.typ || e.Code != "rate_limit_exceeded" || e.Kind != apierr.KindPolicy ||
				e.RetryAfter != tt.retry {
				t.Errorf("error %+v; want 429 %s rate_limit_exceeded, retry-after %v", e, tt.typ, tt.retry)
			}
			for _, s := range tt.contains {
				if !strings.Contains(e.Message, s) {
					t.Errorf("message %q does not contain %q", e.Message, s)
				}
			}
		})
	}
	u := unavailableError(errors.New("dial tcp: connection refused"))
	if u.Status != 503 || u.Type != "service_unavailable" || strings.Contains(u.Message, "dial") {
		t.Errorf("unavailable: %+v", u)
	}
}
