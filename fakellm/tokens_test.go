package fakellm

import (
	"net/http"
	"testing"
)

// TestTokenKnobsOpenAI checks that the cache and reasoning knobs reach OpenAI's usage,
// from Options, headers and the body, in plain and streamed answers alike.
func TestTokenKnobsOpenAI(t *testing.T) {
	// "Be terse." and "hello there friend" are 5 words, plus 3 per message: 11.
	const counted = 11
	tests := []struct {
		name                     string
		opts                     Options
		headers                  map[string]string
		extra                    string
		cached, write, reasoning int
	}{
		{"none", Options{}, nil, "", 0, 0, 0},
		{"options", Options{CachedTokens: 100, CacheWriteTokens: 7, ReasoningTokens: 5}, nil, "", 100, 7, 5},
		{"headers", Options{}, map[string]string{"X-Fake-Cached-Tokens": "40", "X-Fake-Cache-Write-Tokens": "2",
			"X-Fake-Reasoning-Tokens": "9"}, "", 40, 2, 9},
		{"body beats header", Options{}, map[string]string{"X-Fake-Cached-Tokens": "40"},
			`"fakellm":{"cached_tokens":3,"reasoning_tokens":1}`, 3, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.opts)
			want := usageWant{prompt: counted + tt.cached + tt.write, completion: 8 + tt.reasoning,
				cached: tt.cached, reasoning: tt.reasoning}
			status, _, b := f.call(req{path: "/v1/chat/completions", body: chatBody(tt.extra), headers: tt.headers})
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, b)
			}
			var resp struct{ Usage wireUsage }
			decode(t, b, &resp)
			want.check(t, "response", resp.Usage)

			extra := `"stream":true,"stream_options":{"include_usage":true}`
			if tt.extra != "" {
				extra += "," + tt.extra
			}
			_, _, sb := f.call(req{path: "/v1/chat/completions", body: chatBody(extra), headers: tt.headers})
			events := sseData(t, sb)
			var last struct{ Usage wireUsage }
			decode(t, []byte(events[len(events)-2]), &last)
			want.check(t, "stream", last.Usage)
		})
	}
}

func TestTokenKnobsInvalid(t *testing.T) {
	f := newFixture(t, Options{})
	for _, h := range []map[string]string{{"X-Fake-Cached-Tokens": "-1"}, {"X-Fake-Reasoning-Tokens": "many"},
		{"X-Fake-Cache-Write-Tokens": "99999999999"}} {
		if status, _, b := f.call(req{path: "/v1/chat/completions", body: chatBody(""), headers: h}); status != http.StatusBadRequest {
			t.Errorf("%v: status %d, want 400: %s", h, status, b)
		}
	}
	if err := (Options{CachedTokens: -5}).Validate(); err == nil {
		t.Error("Validate accepted a negative CachedTokens")
	}
}

type wireUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

type usageWant struct{ prompt, completion, cached, reasoning int }

func (w usageWant) check(t *testing.T, where string, u wireUsage) {
	t.Helper()
	if u.PromptTokens != w.prompt || u.CompletionTokens != w.completion || u.TotalTokens != w.prompt+w.completion ||
		u.PromptTokensDetails.CachedTokens != w.cached || u.CompletionTokensDetails.ReasoningTokens != w.reasoning {
		t.Errorf("%s usage = %+v, want %+v", where, u, w)
	}
}
