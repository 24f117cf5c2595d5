package fakellm

import (
	"encoding/json"
	"strings"
	"testing"
)

const cohereHello = `{"model":"command-a-03-2025","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello there"}]}`

// cohereEvents checks Cohere's framing, an event: line naming the data's type before
// every data: line and data: [DONE] last, and returns the events' data.
func cohereEvents(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	blocks := strings.Split(strings.TrimSuffix(string(body), "\n\n"), "\n\n")
	if blocks[len(blocks)-1] != "data: [DONE]" {
		t.Fatalf("stream does not end with data: [DONE]: %q", body)
	}
	var out []map[string]any
	for _, blk := range blocks[:len(blocks)-1] {
		name, data, ok := strings.Cut(blk, "\ndata: ")
		var ev map[string]any
		if !ok || json.Unmarshal([]byte(data), &ev) != nil || name != "event: "+ev["type"].(string) {
			t.Fatalf("event %q", blk)
		}
		out = append(out, ev)
	}
	return out
}

// TestCohereAuth: a missing key and a wrong one are Cohere's 401s with an id and a
// message.
func TestCohereAuth(t *testing.T) {
	f := newFixture(t, Options{Keys: []string{testKey}, Models: []string{"*"}})
	for _, tc := range []struct {
		r    req
		want string
	}{
		{req{path: "/v2/chat", body: cohereHello, noAuth: true}, "no api key supplied"},
		{req{path: "/v2/chat", body: cohereHello, noAuth: true, headers: map[string]string{"Authorization": "Bearer co-wrong"}}, "invalid api token"},
	} {
		st, _, b := f.call(tc.r)
		var e cohereError
		decode(t, b, &e)
		if st != 401 || e.Message != tc.want || len(e.ID) != 36 {
			t.Errorf("%d %s, want 401 %q", st, b, tc.want)
		}
	}
}

// TestCohereChat: a text answer in Cohere's shape; usage bills the prompt with cache
// reads and writes and the answer with reasoning, and tokens adds the template.
func TestCohereChat(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"*"}, Chunks: 3})
	st, h, b := f.call(req{path: "/v2/chat", body: cohereHello,
		headers: map[string]string{"X-Fake-Cached-Tokens": "10", "X-Fake-Cache-Write-Tokens": "4", "X-Fake-Reasoning-Tokens": "2"}})
	var r struct {
		ID           string `json:"id"`
		FinishReason string `json:"finish_reason"`
		Message      struct {
			Role    string       `json:"role"`
			Content []cohereItem `json:"content"`
		} `json:"message"`
		Usage struct {
			BilledUnits  map[string]int `json:"billed_units"`
			Tokens       map[string]int `json:"tokens"`
			CachedTokens int            `json:"cached_tokens"`
		} `json:"usage"`
	}
	decode(t, b, &r)
	prompt := 2 + 3 + 2 + 3 + 10 + 4
	if st != 200 || h.Get("x-debug-trace-id") == "" || r.FinishReason != "COMPLETE" || r.Message.Role != "assistant" ||
		r.Message.Content[0].Text != Text(3) || r.Usage.BilledUnits["input_tokens"] != prompt ||
		r.Usage.BilledUnits["output_tokens"] != 5 || r.Usage.Tokens["input_tokens"] != prompt+cohereTemplateTokens ||
		r.Usage.CachedTokens != 10 {
		t.Errorf("%d %s", st, b)
	}
	for body, want := range map[string]string{
		`{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":2}`:                           `"finish_reason":"MAX_TOKENS"`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"stop_sequences":["from"]}`:                `"finish_reason":"STOP_SEQUENCE"`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}`: `{\"answer\"`,
	} {
		if _, _, b := f.call(req{path: "/v2/chat", body: body}); !strings.Contains(string(b), want) {
			t.Errorf("%s: %s, want %s", body, b, want)
		}
	}
}

// TestCohereRejects: requests Cohere rejects are 400 "invalid request: ...".
func TestCohereRejects(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"*"}})
	tool := `"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]`
	for name, body := range map[string]string{
		"no model":             `{"messages":[{"role":"user","content":"x"}]}`,
		"no messages":          `{"model":"m","messages":[]}`,
		"system not first":     `{"model":"m","messages":[{"role":"user","content":"x"},{"role":"system","content":"y"}]}`,
		"unknown tool call":    `{"model":"m","messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"c1","content":"y"}]}`,
		"bad tool_choice":      `{"model":"m","messages":[{"role":"user","content":"x"}],` + tool + `,"tool_choice":"AUTO"}`,
		"json with tools":      `{"model":"m","messages":[{"role":"user","content":"x"}],` + tool + `,"response_format":{"type":"json_object"}}`,
		"six stop sequences":   `{"model":"m","messages":[{"role":"user","content":"x"}],"stop_sequences":["a","b","c","d","e","f"]}`,
		"developer role":       `{"model":"m","messages":[{"role":"developer","content":"x"}]}`,
		"image not a data URI": `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"file:///x.png"}}]}]}`,
	} {
		st, _, b := f.call(req{path: "/v2/chat", body: body})
		var e cohereError
		decode(t, b, &e)
		if st != 400 || !strings.HasPrefix(e.Message, "invalid request: ") {
			t.Errorf("%s: %d %s", name, st, b)
		}
	}
}

// TestCohereStream: the text and tool-call streams in Cohere's event order and
// framing, and a failed generation reported at message-end.
func TestCohereStream(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"*"}, Chunks: 2})
	_, h, b := f.call(req{path: "/v2/chat", body: strings.Replace(cohereHello, `{"model"`, `{"stream":true,"model"`, 1)})
	evs := cohereEvents(t, b)
	var types []string
	for _, ev := range evs {
		types = append(types, ev["type"].(string))
	}
	if got := strings.Join(types, ","); !strings.HasPrefix(h.Get("Content-Type"), "text/event-stream") ||
		got != "message-start,content-start,content-delta,content-delta,content-end,message-end" {
		t.Errorf("text stream %s", got)
	}
	body := `{"model":"m","stream":true,"messages":[{"role":"user","content":"please call tool"}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}`
	_, _, b = f.call(req{path: "/v2/chat", body: body})
	evs = cohereEvents(t, b)
	types = types[:0]
	var args string
	for _, ev := range evs {
		if ev["type"] == "tool-call-delta" {
			args += ev["delta"].(map[string]any)["message"].(map[string]any)["tool_calls"].(map[string]any)["function"].(map[string]any)["arguments"].(string)
		}
		if len(types) == 0 || types[len(types)-1] != ev["type"] {
			types = append(types, ev["type"].(string))
		}
	}
	end := evs[len(evs)-1]["delta"].(map[string]any)
	if got := strings.Join(types, ","); got != "message-start,tool-plan-delta,tool-call-start,tool-call-delta,tool-call-end,message-end" ||
		args != `{"city":"fake"}` || end["finish_reason"] != "TOOL_CALL" || end["usage"] == nil {
		t.Errorf("tool stream %s args %s end %v", got, args, end)
	}
	_, _, b = f.call(req{path: "/v2/chat", body: strings.Replace(cohereHello, `{"model"`, `{"stream":true,"model"`, 1),
		headers: map[string]string{"X-Fake-Mode": "error_midstream"}})
	if !strings.Contains(string(b), `"finish_reason":"ERROR"`) || strings.Contains(string(b), "[DONE]") {
		t.Errorf("error_midstream stream %s", b)
	}
}

// TestCohereEmbed: float and base64 embeddings of the same texts agree; input_type is
// required; more than 96 texts is a 400.
func TestCohereEmbed(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"*"}})
	st, _, b := f.call(req{path: "/v2/embed", body: `{"model":"embed-v4.0","texts":["a b","c"],"input_type":"search_query",` +
		`"embedding_types":["float","base64"],"output_dimension":256}`})
	var r struct {
		Embeddings struct {
			Float  [][]float32 `json:"float"`
			Base64 []string    `json:"base64"`
		} `json:"embeddings"`
		Meta struct {
			BilledUnits map[string]int `json:"billed_units"`
		} `json:"meta"`
		ResponseType string `json:"response_type"`
	}
	decode(t, b, &r)
	if st != 200 || len(r.Embeddings.Float) != 2 || len(r.Embeddings.Float[0]) != 256 || r.Meta.BilledUnits["input_tokens"] != 3 ||
		r.Embeddings.Base64[1] != encodeFloats(r.Embeddings.Float[1]) || r.ResponseType != "embeddings_by_type" {
		t.Errorf("%d %.300s", st, b)
	}
	texts, _ := json.Marshal(make([]string, 97))
	for _, body := range []string{`{"model":"m","texts":["a"]}`, `{"model":"m","texts":` + string(texts) + `,"input_type":"clustering"}`,
		`{"model":"m","texts":["a"],"input_type":"clustering","output_dimension":100}`} {
		if st, _, b := f.call(req{path: "/v2/embed", body: body}); st != 400 {
			t.Errorf("%s: %d %s", body, st, b)
		}
	}
}
