package fakellm

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// chunk is a stream chunk decoded loosely, to check which keys are present.
type chunk map[string]json.RawMessage

func (c chunk) choices(t *testing.T) []map[string]json.RawMessage {
	t.Helper()
	var out []map[string]json.RawMessage
	if err := json.Unmarshal(c["choices"], &out); err != nil {
		t.Fatalf("choices %s: %v", c["choices"], err)
	}
	return out
}

func TestChatStreamFraming(t *testing.T) {
	tests := []struct {
		name      string
		extra     string
		headers   map[string]string
		wantUsage bool
	}{
		{"no stream_options", `"stream":true`, nil, false},
		{"include_usage false", `"stream":true,"stream_options":{"include_usage":false}`, nil, false},
		{"include_usage", `"stream":true,"stream_options":{"include_usage":true}`, nil, true},
		{"include_usage, no_usage mode", `"stream":true,"stream_options":{"include_usage":true}`, map[string]string{"X-Fake-Mode": "no_usage"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{Chunks: 5})
			status, h, b := f.call(req{path: "/v1/chat/completions", body: chatBody(tt.extra), headers: tt.headers})
			if status != http.StatusOK || h.Get("Content-Type") != "text/event-stream" {
				t.Fatalf("status %d, content type %q", status, h.Get("Content-Type"))
			}
			if h.Get("x-request-id") == "" || h.Get("x-ratelimit-remaining-requests") == "" {
				t.Errorf("stream lacks headers: %v", h)
			}
			data := sseData(t, b)
			if data[len(data)-1] != "[DONE]" {
				t.Fatalf("last event = %q", data[len(data)-1])
			}
			// role + 5 words + finish (+ usage) + [DONE]
			want := 8
			if tt.wantUsage {
				want++
			}
			if len(data) != want {
				t.Fatalf("%d events, want %d:\n%s", len(data), want, b)
			}
			var text strings.Builder
			var id string
			for i, d := range data[:len(data)-1] {
				var c chunk
				decode(t, []byte(d), &c)
				usage, hasUsage := c["usage"]
				isUsageChunk := tt.wantUsage && i == len(data)-2
				switch {
				case !tt.wantUsage && hasUsage:
					t.Errorf("chunk %d has usage without include_usage: %s", i, d)
				case tt.wantUsage && !isUsageChunk && string(usage) != "null":
					t.Errorf("chunk %d: usage = %s, want null", i, usage)
				}
				if id == "" {
					id = string(c["id"])
				} else if string(c["id"]) != id {
					t.Errorf("chunk %d id %s != %s", i, c["id"], id)
				}
				if string(c["object"]) != `"chat.completion.chunk"` {
					t.Errorf("chunk %d object = %s", i, c["object"])
				}
				choices := c.choices(t)
				if isUsageChunk {
					var u map[string]any
					decode(t, usage, &u)
					if len(choices) != 0 || u["prompt_tokens"] != 11.0 || u["completion_tokens"] != 5.0 || u["total_tokens"] != 16.0 {
						t.Errorf("usage chunk = %s", d)
					}
					continue
				}
				if len(choices) != 1 {
					t.Fatalf("chunk %d: %d choices", i, len(choices))
				}
				var delta map[string]json.RawMessage
				decode(t, choices[0]["delta"], &delta)
				finish := string(choices[0]["finish_reason"])
				switch {
				case i == 0:
					if string(delta["role"]) != `"assistant"` || string(delta["content"]) != `""` || finish != "null" {
						t.Errorf("first chunk = %s", d)
					}
				case i == 6:
					if len(delta) != 0 || finish != `"stop"` {
						t.Errorf("finish chunk = %s", d)
					}
				default:
					var s string
					decode(t, delta["content"], &s)
					text.WriteString(s)
					if finish != "null" {
						t.Errorf("chunk %d finish = %s", i, finish)
					}
				}
			}
			if text.String() != Text(5) {
				t.Errorf("text = %q, want %q", text.String(), Text(5))
			}
		})
	}
}

func TestChatStreamToolCall(t *testing.T) {
	f := newFixture(t, Options{Chunks: 3})
	body := `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"call tool"}],` +
		`"tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}]}`
	_, _, b := f.call(req{path: "/v1/chat/completions", body: body})
	data := sseData(t, b)
	var args strings.Builder
	var finish string
	for i, d := range data[:len(data)-1] {
		var c struct {
			Choices []struct {
				Delta struct {
					Role      string
					Content   *string
					ToolCalls []struct {
						Index    int
						ID, Type string
						Function struct{ Name, Arguments string }
					} `json:"tool_calls"`
				}
				FinishReason *string `json:"finish_reason"`
			}
		}
		decode(t, []byte(d), &c)
		ch := c.Choices[0]
		if ch.FinishReason != nil {
			finish = *ch.FinishReason
			continue
		}
		tc := ch.Delta.ToolCalls[0]
		if i == 0 && (ch.Delta.Role != "assistant" || tc.ID == "" || tc.Type != "function" || tc.Function.Name != "lookup" || tc.Function.Arguments != "") {
			t.Errorf("first fragment = %s", d)
		}
		if i > 0 && (tc.ID != "" || tc.Function.Name != "") {
			t.Errorf("later fragment repeats id or name: %s", d)
		}
		args.WriteString(tc.Function.Arguments)
	}
	if args.String() != `{"q":"fake"}` || finish != "tool_calls" || len(data) != 6 {
		t.Errorf("arguments %q, finish %q, %d events:\n%s", args.String(), finish, len(data), b)
	}
}

func TestCompletionStream(t *testing.T) {
	f := newFixture(t, Options{Chunks: 3})
	body := `{"model":"gpt-3.5-turbo-instruct","prompt":"hi","stream":true,"stream_options":{"include_usage":true}}`
	_, _, b := f.call(req{path: "/v1/completions", body: body})
	data := sseData(t, b)
	if len(data) != 6 || data[5] != "[DONE]" { // 3 words, finish, usage, [DONE]
		t.Fatalf("events:\n%s", b)
	}
	var text strings.Builder
	for _, d := range data[:3] {
		var c struct {
			Object  string
			Choices []struct{ Text string }
			Usage   *struct{}
		}
		decode(t, []byte(d), &c)
		if c.Object != "text_completion" || !strings.Contains(d, `"usage":null`) {
			t.Errorf("chunk = %s", d)
		}
		text.WriteString(c.Choices[0].Text)
	}
	if text.String() != Text(3) || !strings.Contains(data[3], `"finish_reason":"stop"`) || !strings.Contains(data[4], `"choices":[]`) {
		t.Errorf("stream:\n%s", b)
	}
}

func TestChunkDelayIsObservable(t *testing.T) {
	const delay = 40 * time.Millisecond
	f := newFixture(t, Options{})
	resp := f.do(req{path: "/v1/chat/completions", body: chatBody(`"stream":true`),
		headers: map[string]string{"X-Fake-Chunk-Delay": delay.String(), "X-Fake-Chunks": "4"}})
	defer resp.Body.Close()
	events := readEvents(t, resp.Body, -1)
	if len(events) != 7 {
		t.Fatalf("%d events", len(events))
	}
	// Events 1..4 are the words; each after the first waits the delay.
	for i := 2; i <= 4; i++ {
		if gap := events[i].at.Sub(events[i-1].at); gap < delay/2 {
			t.Errorf("gap before word %d = %v, want >= %v", i, gap, delay/2)
		}
	}
}

func TestTTFTAndLatency(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		body    string
		min     time.Duration
	}{
		{"latency header", map[string]string{"X-Fake-Latency": "80ms"}, chatBody(""), 80 * time.Millisecond},
		{"latency body", nil, chatBody(`"fakellm":{"latency_ms":80}`), 80 * time.Millisecond},
		{"ttft stream", map[string]string{"X-Fake-TTFT": "80"}, chatBody(`"stream":true`), 80 * time.Millisecond},
		{"non-stream waits like a stream", nil, chatBody(`"fakellm":{"chunk_delay_ms":20,"chunks":5}`), 80 * time.Millisecond},
	}
	f := newFixture(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			status, _, b := f.call(req{path: "/v1/chat/completions", body: tt.body, headers: tt.headers})
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, b)
			}
			if el := time.Since(start); el < tt.min/2 {
				t.Errorf("took %v, want >= %v", el, tt.min/2)
			}
		})
	}
}
