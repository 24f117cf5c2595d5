package fakellm

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"net/http"
	"strings"
	"testing"
)

func TestChatCompletionShape(t *testing.T) {
	tests := []struct {
		name       string
		extra      string
		chunks     int
		wantText   string
		wantFinish string
	}{
		{"default", "", 8, Text(8), "stop"},
		{"max_tokens truncates", `"max_tokens":3`, 8, Text(3), "length"},
		{"max_completion_tokens truncates", `"max_completion_tokens":5`, 8, Text(5), "length"},
		{"limit above chunks", `"max_tokens":100`, 4, Text(4), "stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{Chunks: tt.chunks})
			status, h, b := f.call(req{path: "/v1/chat/completions", body: chatBody(tt.extra)})
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, b)
			}
			var resp struct {
				ID, Object, Model string
				ServiceTier       string `json:"service_tier"`
				SystemFingerprint string `json:"system_fingerprint"`
				Created           int64
				Choices           []struct {
					Index        int
					FinishReason string `json:"finish_reason"`
					Message      map[string]any
					Logprobs     *struct{}
				}
				Usage struct {
					PromptTokens            int            `json:"prompt_tokens"`
					CompletionTokens        int            `json:"completion_tokens"`
					TotalTokens             int            `json:"total_tokens"`
					PromptTokensDetails     map[string]int `json:"prompt_tokens_details"`
					CompletionTokensDetails map[string]int `json:"completion_tokens_details"`
				}
			}
			decode(t, b, &resp)
			if !strings.HasPrefix(resp.ID, "chatcmpl-") || resp.Object != "chat.completion" || resp.Model != "gpt-4o-mini" || resp.Created == 0 {
				t.Errorf("envelope = %+v", resp)
			}
			if len(resp.Choices) != 1 {
				t.Fatalf("choices = %d", len(resp.Choices))
			}
			c := resp.Choices[0]
			msg := c.Message
			if msg["role"] != "assistant" || msg["content"] != tt.wantText || c.FinishReason != tt.wantFinish {
				t.Errorf("choice = %+v, want %q / %s", c, tt.wantText, tt.wantFinish)
			}
			if v, ok := msg["refusal"]; !ok || v != nil {
				t.Errorf("refusal must be present and null: %s", b)
			}
			wantCompletion := len(strings.Fields(tt.wantText))
			// "Be terse." (2 words) and "hello there friend" (3), plus 3 per message.
			if u := resp.Usage; u.PromptTokens != 11 || u.CompletionTokens != wantCompletion || u.TotalTokens != 11+wantCompletion {
				t.Errorf("usage = %+v", u)
			}
			if _, ok := resp.Usage.PromptTokensDetails["cached_tokens"]; !ok {
				t.Errorf("usage lacks prompt_tokens_details.cached_tokens: %s", b)
			}
			if _, ok := resp.Usage.CompletionTokensDetails["reasoning_tokens"]; !ok {
				t.Errorf("usage lacks completion_tokens_details.reasoning_tokens: %s", b)
			}
			if resp.ServiceTier != "default" || resp.SystemFingerprint == "" {
				t.Errorf("service_tier/system_fingerprint = %q/%q", resp.ServiceTier, resp.SystemFingerprint)
			}
			for _, name := range []string{"x-request-id", "openai-processing-ms", "x-ratelimit-limit-requests",
				"x-ratelimit-remaining-requests", "x-ratelimit-reset-requests", "x-ratelimit-limit-tokens",
				"x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"} {
				if h.Get(name) == "" {
					t.Errorf("missing header %s", name)
				}
			}
		})
	}
}

func TestChatToolCall(t *testing.T) {
	tools := `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object",` +
		`"properties":{"city":{"type":"string"},"days":{"type":"integer"},"unit":{"enum":["c","f"]}}}}},` +
		`{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{}}}}]`
	tests := []struct {
		name, user, choice, wantName string
	}{
		{"trigger phrase", "please call tool now", "", "get_weather"},
		{"trigger names a tool", "Call tool get_time", "", "get_time"},
		{"tool_choice names a function", "hi", `,"tool_choice":{"type":"function","function":{"name":"get_time"}}`, "get_time"},
		{"tool_choice required", "hi", `,"tool_choice":"required"`, "get_weather"},
		{"no trigger", "hi", "", ""},
		{"tool_choice none", "call tool", `,"tool_choice":"none"`, ""},
	}
	f := newFixture(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"model":"gpt-4o","messages":[{"role":"user","content":"` + tt.user + `"}],` + tools + tt.choice + `}`
			status, _, b := f.call(req{path: "/v1/chat/completions", body: body})
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, b)
			}
			var resp struct {
				Choices []struct {
					FinishReason string `json:"finish_reason"`
					Message      struct {
						Content   *string
						ToolCalls []struct {
							ID, Type string
							Function struct{ Name, Arguments string }
						} `json:"tool_calls"`
					}
				}
			}
			decode(t, b, &resp)
			c := resp.Choices[0]
			if tt.wantName == "" {
				if c.FinishReason != "stop" || len(c.Message.ToolCalls) != 0 || c.Message.Content == nil {
					t.Errorf("want a text answer, got %s", b)
				}
				return
			}
			if c.FinishReason != "tool_calls" || c.Message.Content != nil || len(c.Message.ToolCalls) != 1 {
				t.Fatalf("want one tool call and null content, got %s", b)
			}
			tc := c.Message.ToolCalls[0]
			if !strings.HasPrefix(tc.ID, "call_") || tc.Type != "function" || tc.Function.Name != tt.wantName {
				t.Errorf("tool call = %+v", tc)
			}
			if tt.wantName == "get_weather" && tc.Function.Arguments != `{"city":"fake","days":1,"unit":"c"}` {
				t.Errorf("arguments = %s", tc.Function.Arguments)
			}
		})
	}
}

func TestCompletionShape(t *testing.T) {
	tests := []struct {
		name, prompt, extra string
		wantChoices         int
		wantText            string
		wantPrompt          int
	}{
		{"string", `"one two three"`, "", 1, Text(8), 3},
		{"strings", `["a b","c"]`, "", 2, Text(8), 3},
		{"tokens", `[1,2,3,4]`, "", 1, Text(8), 4},
		{"token lists", `[[1,2],[3]]`, `,"n":2`, 4, Text(8), 3},
		{"max_tokens", `"x"`, `,"max_tokens":2`, 1, Text(2), 1},
	}
	f := newFixture(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"model":"gpt-3.5-turbo-instruct","prompt":` + tt.prompt + tt.extra + `}`
			status, _, b := f.call(req{path: "/v1/completions", body: body})
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, b)
			}
			var resp struct {
				ID, Object, Model string
				Choices           []struct {
					Text         string
					Index        int
					FinishReason string `json:"finish_reason"`
				}
				Usage struct {
					PromptTokens     int `json:"prompt_tokens"`
					CompletionTokens int `json:"completion_tokens"`
				}
			}
			decode(t, b, &resp)
			if !strings.HasPrefix(resp.ID, "cmpl-") || resp.Object != "text_completion" || len(resp.Choices) != tt.wantChoices {
				t.Fatalf("response = %s", b)
			}
			for i, c := range resp.Choices {
				if c.Index != i || c.Text != tt.wantText {
					t.Errorf("choice %d = %+v", i, c)
				}
			}
			words := len(strings.Fields(tt.wantText))
			if u := resp.Usage; u.PromptTokens != tt.wantPrompt || u.CompletionTokens != words*tt.wantChoices {
				t.Errorf("usage = %+v", u)
			}
		})
	}
}

func TestCompletionsDefaultMaxTokens(t *testing.T) {
	f := newFixture(t, Options{Chunks: 20})
	_, _, b := f.call(req{path: "/v1/completions", body: `{"model":"gpt-3.5-turbo-instruct","prompt":"x"}`})
	if !strings.Contains(string(b), `"text":"`+Text(16)+`"`) || !strings.Contains(string(b), `"finish_reason":"length"`) {
		t.Errorf("want 16 words cut by length, got %s", b)
	}
}

func TestEmbeddings(t *testing.T) {
	type embResp struct {
		Object string
		Model  string
		Data   []struct {
			Object    string
			Index     int
			Embedding any
		}
		Usage map[string]int
	}
	f := newFixture(t, Options{})
	get := func(t *testing.T, input, extra string) embResp {
		t.Helper()
		status, _, b := f.call(req{path: "/v1/embeddings", body: `{"model":"text-embedding-3-small","input":` + input + extra + `}`})
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, b)
		}
		var r embResp
		decode(t, b, &r)
		return r
	}
	floats := func(t *testing.T, v any) []float32 {
		t.Helper()
		if s, ok := v.(string); ok {
			raw, err := base64.StdEncoding.DecodeString(s)
			if err != nil || len(raw)%4 != 0 {
				t.Fatalf("bad base64 %q: %v", s, err)
			}
			out := make([]float32, len(raw)/4)
			for i := range out {
				out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
			return out
		}
		var out []float32
		for _, x := range v.([]any) {
			out = append(out, float32(x.(float64)))
		}
		return out
	}
	tests := []struct {
		name, input, extra string
		wantN, wantDims    int
		wantTokens         int
	}{
		{"string", `"hello world"`, "", 1, 8, 2},
		{"strings", `["a","b c","d"]`, "", 3, 8, 4},
		{"tokens", `[5,6,7]`, "", 1, 8, 3},
		{"token lists", `[[5],[6,7]]`, "", 2, 8, 3},
		{"dimensions", `"x"`, `,"dimensions":64`, 1, 64, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain := get(t, tt.input, tt.extra+`,"encoding_format":"float"`)
			packed := get(t, tt.input, tt.extra+`,"encoding_format":"base64"`)
			if plain.Object != "list" || plain.Model != "text-embedding-3-small" || len(plain.Data) != tt.wantN {
				t.Fatalf("response = %+v", plain)
			}
			if plain.Usage["prompt_tokens"] != tt.wantTokens || plain.Usage["total_tokens"] != tt.wantTokens {
				t.Errorf("usage = %v", plain.Usage)
			}
			for i := range plain.Data {
				a, b := floats(t, plain.Data[i].Embedding), floats(t, packed.Data[i].Embedding)
				if len(a) != tt.wantDims || len(b) != tt.wantDims || plain.Data[i].Index != i || plain.Data[i].Object != "embedding" {
					t.Fatalf("item %d: %d/%d dims", i, len(a), len(b))
				}
				var norm float64
				for j := range a {
					if a[j] != b[j] {
						t.Fatalf("item %d: float %v != base64 %v", i, a[j], b[j])
					}
					norm += float64(a[j]) * float64(a[j])
				}
				if math.Abs(norm-1) > 1e-3 {
					t.Errorf("item %d: norm² = %v, want 1", i, norm)
				}
			}
		})
	}
	t.Run("deterministic and distinct", func(t *testing.T) {
		a, b := get(t, `["p","q"]`, ""), get(t, `["p","q"]`, "")
		if a.Data[0].Embedding.([]any)[0] != b.Data[0].Embedding.([]any)[0] {
			t.Error("same input, different vectors")
		}
		if a.Data[0].Embedding.([]any)[0] == a.Data[1].Embedding.([]any)[0] {
			t.Error("different inputs, same vector")
		}
	})
}

func TestModels(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"m-one", "gpt-x"}})
	status, _, b := f.call(req{method: http.MethodGet, path: "/v1/models"})
	var list struct {
		Object string
		Data   []map[string]any
	}
	decode(t, b, &list)
	if status != http.StatusOK || list.Object != "list" || len(list.Data) != 2 {
		t.Fatalf("status %d: %s", status, b)
	}
	if m := list.Data[1]; m["id"] != "gpt-x" || m["object"] != "model" || m["owned_by"] != "openai" || m["created"] == nil {
		t.Errorf("model = %v", m)
	}
	status, _, b = f.call(req{method: http.MethodGet, path: "/v1/models/m-one"})
	if status != http.StatusOK || !strings.Contains(string(b), `"id":"m-one"`) {
		t.Errorf("get model: %d %s", status, b)
	}
	status, _, b = f.call(req{method: http.MethodGet, path: "/v1/models/nope"})
	if status != http.StatusNotFound {
		t.Errorf("unknown model: %d", status)
	}
	checkError(t, b, "invalid_request_error", "model_not_found")
}

func TestAnyModel(t *testing.T) {
	for _, models := range [][]string{{}, {"*"}} {
		f := newFixture(t, Options{Models: models})
		status, _, b := f.call(req{path: "/v1/chat/completions", body: `{"model":"whatever-7b","messages":[{"role":"user","content":"x"}]}`})
		if status != http.StatusOK {
			t.Errorf("models %v: status %d: %s", models, status, b)
		}
	}
}
