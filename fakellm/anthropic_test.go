package fakellm

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// anthropicReq is a request to the Anthropic dialect with its required headers.
func anthropicReq(body string, headers map[string]string) req {
	h := map[string]string{"X-Api-Key": testKey, "Anthropic-Version": "2023-06-01"}
	for k, v := range headers {
		if v == "" {
			delete(h, k)
			continue
		}
		h[k] = v
	}
	return req{path: "/v1/messages", body: body, headers: h, noAuth: true}
}

const messagesBody = `{"model":"claude-sonnet-4-5","max_tokens":100,"system":"Be terse.",` +
	`"messages":[{"role":"user","content":"hello there friend"}]`

func msgBody(extra string) string {
	if extra == "" {
		return messagesBody + "}"
	}
	return messagesBody + "," + extra + "}"
}

type anthropicErr struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
	RequestID string `json:"request_id"`
}

// TestAnthropicAuth: x-api-key and anthropic-version are both required; a Bearer
// token is not Anthropic's auth; errors have Anthropic's shape and a request-id.
func TestAnthropicAuth(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		status  int
		typ     string
		msg     string
	}{
		{"no key", map[string]string{"X-Api-Key": ""}, 401, "authentication_error", "x-api-key header is required"},
		{"bearer only", map[string]string{"X-Api-Key": "", "Authorization": "Bearer " + testKey}, 401, "authentication_error", "x-api-key header is required"},
		{"wrong key", map[string]string{"X-Api-Key": "sk-ant-wrong"}, 401, "authentication_error", "invalid x-api-key"},
		{"no version", map[string]string{"Anthropic-Version": ""}, 400, "invalid_request_error", "anthropic-version: header is required"},
		{"bad version", map[string]string{"Anthropic-Version": "2024-13-01"}, 400, "invalid_request_error", "anthropic-version: invalid version 2024-13-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{Keys: []string{testKey}})
			status, h, b := f.call(anthropicReq(msgBody(""), tt.headers))
			var e anthropicErr
			decode(t, b, &e)
			if status != tt.status || e.Type != "error" || e.Error.Type != tt.typ || e.Error.Message != tt.msg {
				t.Errorf("status %d body %s", status, b)
			}
			if h.Get("request-id") == "" || e.RequestID != h.Get("request-id") {
				t.Errorf("request-id header %q body %q", h.Get("request-id"), e.RequestID)
			}
			if strings.Contains(string(b), "sk-ant-wrong") {
				t.Error("the error echoes the rejected key")
			}
		})
	}
}

// TestAnthropicValidation: what the Messages API refuses, the fake refuses.
func TestAnthropicValidation(t *testing.T) {
	user := `{"role":"user","content":"hi"}`
	tests := []struct{ name, body, want string }{
		{"not json", `{"model":`, "not valid JSON"},
		{"wrong type", `{"model":"claude-sonnet-4-5","max_tokens":"many","messages":[` + user + `]}`, "max_tokens"},
		{"no max_tokens", `{"model":"claude-sonnet-4-5","messages":[` + user + `]}`, "max_tokens: Field required"},
		{"zero max_tokens", `{"model":"claude-sonnet-4-5","max_tokens":0,"messages":[` + user + `]}`, "greater than or equal to 1"},
		{"no model", `{"max_tokens":5,"messages":[` + user + `]}`, "model: Field required"},
		{"openai field", `{"model":"claude-sonnet-4-5","max_tokens":5,"stream_options":{},"messages":[` + user + `]}`, "stream_options: Extra inputs are not permitted"},
		{"no messages", `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[]}`, "at least one message"},
		{"system role", `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[` + user + `,{"role":"system","content":"x"}]}`, "top-level `system` parameter"},
		{"assistant first", `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"assistant","content":"x"}]}`, `first message must use the "user" role`},
		{"empty text", `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":""}]}`, "text content blocks must be non-empty"},
		{"hot temperature", `{"model":"claude-sonnet-4-5","max_tokens":5,"temperature":1.5,"messages":[` + user + `]}`, "temperature"},
		{"blank stop", `{"model":"claude-sonnet-4-5","max_tokens":5,"stop_sequences":[" "],"messages":[` + user + `]}`, "non-whitespace"},
		{"orphan tool_result", `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_x","content":"r"}]}]}`,
			"unexpected `tool_use_id`"},
		{"unanswered tool_use", `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[` + user + `,{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{}}]},` + user + `]}`,
			"without `tool_result`"},
		{"gif named bmp", `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/bmp","data":"AAAA"}}]}]}`,
			"media_type"},
		{"bad base64", `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"not base64!"}}]}]}`,
			"not valid base64"},
		{"thinking budget", `{"model":"claude-sonnet-4-5","max_tokens":1000,"thinking":{"type":"enabled","budget_tokens":1000},"messages":[` + user + `]}`, "budget_tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{Models: []string{"*"}})
			status, _, b := f.call(anthropicReq(tt.body, nil))
			var e anthropicErr
			decode(t, b, &e)
			if status != 400 || e.Error.Type != "invalid_request_error" || !strings.Contains(e.Error.Message, tt.want) {
				t.Errorf("status %d body %s, want 400 mentioning %q", status, b, tt.want)
			}
		})
	}
	f := newFixture(t, Options{})
	status, _, b := f.call(anthropicReq(msgBody(""), nil))
	if !strings.Contains(string(b), "not_found_error") || status != 404 || !strings.Contains(string(b), "model: claude-sonnet-4-5") {
		t.Errorf("unserved model: %d %s", status, b)
	}
}

type anthropicUsageWire struct {
	InputTokens   int `json:"input_tokens"`
	CacheCreation int `json:"cache_creation_input_tokens"`
	CacheRead     int `json:"cache_read_input_tokens"`
	OutputTokens  int `json:"output_tokens"`
	Details       *struct {
		ThinkingTokens int `json:"thinking_tokens"`
	} `json:"output_tokens_details"`
}

type messageWire struct {
	ID, Type, Role, Model string
	Content               []struct {
		Type, Text, ID, Name, Thinking, Signature string
		Input                                     json.RawMessage
	}
	StopReason   *string `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
	Usage        anthropicUsageWire
}

// TestAnthropicMessage: the response shape, stop reasons, and the token knobs in
// Anthropic's usage fields, with a thinking block when the model "reasoned".
func TestAnthropicMessage(t *testing.T) {
	tests := []struct {
		name, extra   string
		headers       map[string]string
		text, stop    string
		seq           string
		output, think int
	}{
		{"plain", "", nil, Text(8), "end_turn", "", 8, 0},
		{"body knob", `"fakellm":{"chunks":3}`, nil, Text(3), "end_turn", "", 3, 0},
		{"stop sequence", `"stop_sequences":["zzz","fake"]`, nil, "Hello from the ", "stop_sequence", "fake", 4, 0},
		{"knobs", "", map[string]string{"X-Fake-Cached-Tokens": "100", "X-Fake-Cache-Write-Tokens": "20", "X-Fake-Reasoning-Tokens": "5"},
			Text(8), "end_turn", "", 8, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{Models: []string{"*"}})
			status, h, b := f.call(anthropicReq(msgBody(tt.extra), tt.headers))
			if status != 200 {
				t.Fatalf("status %d: %s", status, b)
			}
			var m messageWire
			decode(t, b, &m)
			last := m.Content[len(m.Content)-1]
			if !strings.HasPrefix(m.ID, "msg_") || m.Type != "message" || m.Role != "assistant" || last.Type != "text" ||
				last.Text != tt.text || *m.StopReason != tt.stop || (tt.seq != "") != (m.StopSequence != nil) {
				t.Errorf("message %s", b)
			}
			u := m.Usage
			// "Be terse." (2) + "hello there friend" (3) + 3 for the message.
			if u.InputTokens != 8 || u.OutputTokens != tt.output+tt.think {
				t.Errorf("usage %+v", u)
			}
			if tt.think > 0 && (u.CacheRead != 100 || u.CacheCreation != 20 || u.Details == nil || u.Details.ThinkingTokens != 5 ||
				m.Content[0].Type != "thinking" || m.Content[0].Signature == "") {
				t.Errorf("knobs: usage %+v content %s", u, b)
			}
			for _, k := range []string{"requests", "tokens", "input-tokens", "output-tokens"} {
				if _, err := time.Parse(time.RFC3339, h.Get("anthropic-ratelimit-"+k+"-reset")); err != nil || h.Get("anthropic-ratelimit-"+k+"-remaining") == "" {
					t.Errorf("rate-limit headers for %s: %v", k, h)
				}
			}
		})
	}
}

func TestAnthropicMaxTokensAndMerging(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"*"}})
	body := `{"model":"m","max_tokens":3,"messages":[{"role":"user","content":"a"},{"role":"user","content":[{"type":"text","text":"b"}]}]}`
	status, _, b := f.call(anthropicReq(body, nil))
	var m messageWire
	decode(t, b, &m)
	if status != 200 || *m.StopReason != "max_tokens" || m.Content[0].Text != Text(3) || m.Usage.OutputTokens != 3 {
		t.Errorf("consecutive user turns with max_tokens 3: %d %s", status, b)
	}
}
