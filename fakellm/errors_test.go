package fakellm

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAuth(t *testing.T) {
	const secret = "sk-wrong-SECRET-value"
	tests := []struct {
		name       string
		keys       []string
		header     string
		wantStatus int
	}{
		{"any key when none configured", nil, "Bearer " + secret, http.StatusOK},
		{"configured key", []string{testKey}, "Bearer " + testKey, http.StatusOK},
		{"wrong key", []string{testKey}, "Bearer " + secret, http.StatusUnauthorized},
		{"missing header", nil, "", http.StatusUnauthorized},
		{"not bearer", nil, "Basic " + secret, http.StatusUnauthorized},
		{"empty bearer", nil, "Bearer ", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{Keys: tt.keys})
			headers := map[string]string{}
			if tt.header != "" {
				headers["Authorization"] = tt.header
			}
			status, h, b := f.call(req{method: http.MethodGet, path: "/v1/models", noAuth: true, headers: headers})
			if status != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", status, tt.wantStatus, b)
			}
			if status == http.StatusOK {
				return
			}
			checkError(t, b, "invalid_request_error", "invalid_api_key")
			if strings.Contains(string(b), secret) || strings.Contains(string(b), "SECRET") {
				t.Errorf("error echoes the key: %s", b)
			}
			if h.Get("x-request-id") == "" {
				t.Error("401 lacks x-request-id")
			}
		})
	}
}

func TestBadRequests(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantType, wantCode       string
	}{
		{"bad json", "", "/v1/chat/completions", `{"model":`, 400, "invalid_request_error", ""},
		{"wrong type", "", "/v1/chat/completions", `{"model":"gpt-4o","messages":"hi"}`, 400, "invalid_request_error", "invalid_type"},
		{"missing model", "", "/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}]}`, 400, "invalid_request_error", ""},
		{"missing messages", "", "/v1/chat/completions", `{"model":"gpt-4o"}`, 400, "invalid_request_error", "missing_required_parameter"},
		{"unknown model", "", "/v1/chat/completions", `{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}`, 404, "invalid_request_error", "model_not_found"},
		{"stream_options without stream", "", "/v1/chat/completions", chatBody(`"stream_options":{"include_usage":true}`), 400, "invalid_request_error", "invalid_value"},
		{"max_tokens zero", "", "/v1/chat/completions", chatBody(`"max_tokens":0`), 400, "invalid_request_error", "integer_below_min_value"},
		{"missing prompt", "", "/v1/completions", `{"model":"gpt-3.5-turbo-instruct"}`, 400, "invalid_request_error", "missing_required_parameter"},
		{"empty embedding input", "", "/v1/embeddings", `{"model":"text-embedding-3-small","input":""}`, 400, "invalid_request_error", "invalid_value"},
		{"bad encoding_format", "", "/v1/embeddings", `{"model":"text-embedding-3-small","input":"x","encoding_format":"hex"}`, 400, "invalid_request_error", "invalid_value"},
		{"unknown path", "", "/v1/nope", `{}`, 404, "invalid_request_error", ""},
		{"wrong method", http.MethodGet, "/v1/chat/completions", "", 405, "invalid_request_error", ""},
		{"bad knob", "", "/v1/chat/completions", chatBody(`"fakellm":{"mode":"explode"}`), 400, "invalid_request_error", "invalid_value"},
		{"bad knob type", "", "/v1/chat/completions", chatBody(`"fakellm":{"chunks":"many"}`), 400, "invalid_request_error", "invalid_value"},
	}
	f := newFixture(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, b := f.call(req{method: tt.method, path: tt.path, body: tt.body})
			if status != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", status, tt.wantStatus, b)
			}
			checkError(t, b, tt.wantType, tt.wantCode)
		})
	}
}

func TestBadKnobHeaders(t *testing.T) {
	f := newFixture(t, Options{})
	for _, h := range []map[string]string{
		{"X-Fake-Latency": "soon"}, {"X-Fake-Chunks": "-1"}, {"X-Fake-Error-Rate": "2"},
		{"X-Fake-Error-Status": "200"}, {"X-Fake-Mode": "nope"}, {"X-Fake-TTFT": "-5ms"},
	} {
		status, _, b := f.call(req{path: "/v1/chat/completions", body: chatBody(""), headers: h})
		if status != http.StatusBadRequest {
			t.Errorf("%v: status %d: %s", h, status, b)
		}
	}
}

func TestInjectedErrors(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		headers    map[string]string
		body       string
		wantStatus int
		wantType   string
	}{
		{"flag rate 1", Options{ErrorRate: 1}, nil, "", 500, "server_error"},
		{"flag status", Options{ErrorRate: 1, ErrorStatus: 503}, nil, "", 503, "server_error"},
		{"header status implies rate 1", Options{}, map[string]string{"X-Fake-Error-Status": "502"}, "", 502, "server_error"},
		{"header status with rate 0", Options{}, map[string]string{"X-Fake-Error-Status": "502", "X-Fake-Error-Rate": "0"}, "", 200, ""},
		{"body status", Options{}, nil, `"fakellm":{"error_status":400}`, 400, "invalid_request_error"},
		{"body rate 0 beats flag rate 1", Options{ErrorRate: 1}, nil, `"fakellm":{"error_rate":0}`, 200, ""},
		{"body beats header", Options{}, map[string]string{"X-Fake-Error-Status": "500"}, `"fakellm":{"error_rate":0}`, 200, ""},
		{"429", Options{}, map[string]string{"X-Fake-Error-Status": "429"}, "", 429, "requests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.opts)
			status, h, b := f.call(req{path: "/v1/chat/completions", body: chatBody(tt.body), headers: tt.headers})
			if status != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", status, tt.wantStatus, b)
			}
			if status == http.StatusOK {
				return
			}
			e := checkError(t, b, tt.wantType, map[int]string{429: "rate_limit_exceeded"}[status])
			if e["message"] == "" {
				t.Error("empty message")
			}
			if h.Get("x-request-id") == "" {
				t.Error("no x-request-id")
			}
			if status == 429 {
				if h.Get("retry-after") != "1" || h.Get("retry-after-ms") != "1000" || h.Get("x-ratelimit-remaining-requests") != "0" {
					t.Errorf("429 headers = %v", h)
				}
			}
		})
	}
}

func TestErrorRateIsSeeded(t *testing.T) {
	outcomes := func() string {
		f := newFixture(t, Options{ErrorRate: 0.5, Seed: 42})
		var sb strings.Builder
		for range 40 {
			status, _, _ := f.call(req{method: http.MethodGet, path: "/v1/models"})
			sb.WriteString(strconv.Itoa(status / 100))
		}
		return sb.String()
	}
	a, b := outcomes(), outcomes()
	if a != b {
		t.Errorf("same seed, different outcomes:\n%s\n%s", a, b)
	}
	if !strings.Contains(a, "2") || !strings.Contains(a, "5") {
		t.Errorf("rate 0.5 gave %s", a)
	}
}

func TestRateLimits(t *testing.T) {
	t.Run("requests", func(t *testing.T) {
		f := newFixture(t, Options{RateLimitRequests: 2})
		for i, want := range []string{"1", "0"} {
			status, h, _ := f.call(req{method: http.MethodGet, path: "/v1/models"})
			if status != 200 || h.Get("x-ratelimit-limit-requests") != "2" || h.Get("x-ratelimit-remaining-requests") != want {
				t.Fatalf("request %d: %d %v", i, status, h)
			}
		}
		status, h, b := f.call(req{method: http.MethodGet, path: "/v1/models"})
		if status != http.StatusTooManyRequests {
			t.Fatalf("third request: %d", status)
		}
		checkError(t, b, "requests", "rate_limit_exceeded")
		if ra, err := strconv.Atoi(h.Get("retry-after")); err != nil || ra < 1 || ra > 60 {
			t.Errorf("retry-after = %q", h.Get("retry-after"))
		}
		if _, err := strconv.Atoi(h.Get("retry-after-ms")); err != nil {
			t.Errorf("retry-after-ms = %q", h.Get("retry-after-ms"))
		}
		if _, err := time.ParseDuration(h.Get("x-ratelimit-reset-requests")); err != nil {
			t.Errorf("reset = %q: %v", h.Get("x-ratelimit-reset-requests"), err)
		}
		// Limits are per key.
		status, _, _ = f.call(req{method: http.MethodGet, path: "/v1/models", headers: map[string]string{"Authorization": "Bearer other"}})
		if status != http.StatusOK {
			t.Errorf("other key: %d", status)
		}
	})
	t.Run("tokens", func(t *testing.T) {
		f := newFixture(t, Options{RateLimitTokens: 10})
		status, _, _ := f.call(req{path: "/v1/chat/completions", body: chatBody("")})
		if status != http.StatusOK {
			t.Fatalf("first: %d", status)
		}
		status, h, b := f.call(req{path: "/v1/chat/completions", body: chatBody("")})
		if status != http.StatusTooManyRequests || h.Get("x-ratelimit-remaining-tokens") != "0" {
			t.Fatalf("second: %d %v", status, h)
		}
		checkError(t, b, "tokens", "rate_limit_exceeded")
	})
}

func TestFormatReset(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{6 * time.Minute, "6m0s"}, {time.Second, "1s"}, {20 * time.Millisecond, "20ms"},
		{1500 * time.Microsecond, "2ms"}, {0, "0s"}, {-time.Second, "0s"},
	}
	for _, tt := range tests {
		if got := formatReset(tt.d); got != tt.want {
			t.Errorf("formatReset(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"zero", Options{}, true},
		{"full", Options{Latency: time.Second, ErrorRate: 0.3, ErrorStatus: 429, RateLimitRequests: 5}, true},
		{"rate above 1", Options{ErrorRate: 1.5}, false},
		{"status 200", Options{ErrorStatus: 200}, false},
		{"negative delay", Options{TTFT: -time.Second}, false},
		{"too many chunks", Options{Chunks: maxChunks + 1}, false},
		{"negative limit", Options{RateLimitTokens: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.opts.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
