package fakellm

import (
	"encoding/json"
	"strings"
	"testing"
)

type namedEvent struct {
	name string
	data map[string]any
	raw  string
}

// anthropicEvents checks Anthropic's framing, "event: <name>\ndata: <json>\n\n" with
// the name equal to the data's type, and returns the events.
func anthropicEvents(t *testing.T, body []byte) []namedEvent {
	t.Helper()
	s := string(body)
	if !strings.HasSuffix(s, "\n\n") {
		t.Fatalf("stream does not end with a blank line: %q", s)
	}
	var out []namedEvent
	for _, block := range strings.Split(strings.TrimSuffix(s, "\n\n"), "\n\n") {
		lines := strings.Split(block, "\n")
		name, ok1 := strings.CutPrefix(lines[0], "event: ")
		if len(lines) != 2 || !ok1 || !strings.HasPrefix(lines[1], "data: ") {
			t.Fatalf("event is not one event: line and one data: line: %q", block)
		}
		raw := strings.TrimPrefix(lines[1], "data: ")
		var data map[string]any
		decode(t, []byte(raw), &data)
		if data["type"] != name {
			t.Errorf("event %q carries data of type %v", name, data["type"])
		}
		out = append(out, namedEvent{name, data, raw})
	}
	return out
}

// TestAnthropicStream: the event sequence, a ping, text deltas that make the answer,
// and message_delta usage that is cumulative and equals the unstreamed usage.
func TestAnthropicStream(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"*"}})
	knobs := map[string]string{"X-Fake-Cached-Tokens": "100", "X-Fake-Cache-Write-Tokens": "20", "X-Fake-Reasoning-Tokens": "5"}
	status, h, b := f.call(anthropicReq(msgBody(`"stream":true`), knobs))
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/event-stream") || h.Get("request-id") == "" {
		t.Fatalf("status %d headers %v", status, h)
	}
	events := anthropicEvents(t, b)
	var names []string
	text, thinking := "", ""
	for _, ev := range events {
		names = append(names, ev.name)
		if d, ok := ev.data["delta"].(map[string]any); ok {
			text += str(d["text"])
			thinking += str(d["thinking"])
		}
	}
	want := "message_start ping content_block_start content_block_delta content_block_delta content_block_stop " +
		"content_block_start" + strings.Repeat(" content_block_delta", 8) + " content_block_stop message_delta message_stop"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}
	if text != Text(8) || thinking == "" {
		t.Errorf("text %q thinking %q", text, thinking)
	}
	var start struct {
		Message struct{ Usage anthropicUsageWire }
	}
	decode(t, []byte(events[0].raw), &start)
	var delta struct {
		Delta struct {
			StopReason string `json:"stop_reason"`
		}
		Usage anthropicUsageWire
	}
	decode(t, []byte(events[len(events)-2].raw), &delta)
	_, _, plain := f.call(anthropicReq(msgBody(""), knobs))
	var m messageWire
	decode(t, plain, &m)
	if start.Message.Usage.InputTokens != m.Usage.InputTokens || start.Message.Usage.CacheRead != 100 || start.Message.Usage.OutputTokens != 1 {
		t.Errorf("message_start usage %+v", start.Message.Usage)
	}
	mu, du := m.Usage, delta.Usage
	if delta.Delta.StopReason != "end_turn" || du.InputTokens != mu.InputTokens || du.OutputTokens != mu.OutputTokens ||
		du.CacheRead != mu.CacheRead || du.CacheCreation != mu.CacheCreation || du.Details == nil || du.Details.ThinkingTokens != 5 {
		t.Errorf("message_delta usage %+v, unstreamed %+v", du, mu)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// TestAnthropicToolUse: "call tool" with tools answers a tool_use block whose streamed
// input_json_delta fragments join to the unstreamed input; a tool result ends in text.
func TestAnthropicToolUse(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"*"}})
	tools := `"tools":[{"name":"get_weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}]`
	body := `{"model":"m","max_tokens":50,` + tools + `,"messages":[{"role":"user","content":"please call tool get_weather"}]`
	_, _, b := f.call(anthropicReq(body+"}", nil))
	var m messageWire
	decode(t, b, &m)
	if *m.StopReason != "tool_use" || m.Content[0].Type != "tool_use" || string(m.Content[0].Input) != `{"city":"fake"}` ||
		!strings.HasPrefix(m.Content[0].ID, "toolu_") {
		t.Fatalf("tool answer %s", b)
	}
	_, _, sb := f.call(anthropicReq(body+`,"stream":true}`, nil))
	args := ""
	for _, ev := range anthropicEvents(t, sb) {
		if cb, ok := ev.data["content_block"].(map[string]any); ok && cb["type"] == "tool_use" && cb["name"] != "get_weather" {
			t.Errorf("tool block %v", cb)
		}
		if d, ok := ev.data["delta"].(map[string]any); ok {
			args += str(d["partial_json"])
		}
	}
	if args != `{"city":"fake"}` {
		t.Errorf("streamed input %q", args)
	}
	turn2 := `{"model":"m","max_tokens":50,` + tools + `,"messages":[{"role":"user","content":"please call tool get_weather"},` +
		`{"role":"assistant","content":[{"type":"tool_use","id":"` + m.Content[0].ID + `","name":"get_weather","input":{"city":"fake"}}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"` + m.Content[0].ID + `","content":"sunny"}]}]}`
	status, _, b2 := f.call(anthropicReq(turn2, nil))
	var m2 messageWire
	decode(t, b2, &m2)
	if status != 200 || *m2.StopReason != "end_turn" || m2.Content[0].Text != Text(8) {
		t.Errorf("after the tool result: %d %s", status, b2)
	}
}

// TestAnthropicFaults: overload is a 529 overloaded_error, a 429 carries retry-after,
// and the error_midstream mode sends an error event after a 200.
func TestAnthropicFaults(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"*"}})
	for _, tc := range []struct {
		status int
		typ    string
	}{{529, "overloaded_error"}, {429, "rate_limit_error"}, {500, "api_error"}, {413, "request_too_large"}} {
		status, h, b := f.call(anthropicReq(msgBody(""), map[string]string{"X-Fake-Error-Status": itoa(tc.status)}))
		var e anthropicErr
		decode(t, b, &e)
		if status != tc.status || e.Error.Type != tc.typ || (tc.status == 429) != (h.Get("retry-after") != "") {
			t.Errorf("%d: status %d body %s retry-after %q", tc.status, status, b, h.Get("retry-after"))
		}
	}
	status, _, b := f.call(anthropicReq(msgBody(`"stream":true`), map[string]string{"X-Fake-Mode": "error_midstream",
		"X-Fake-Error-Status": "529", "X-Fake-Error-Rate": "0"}))
	events := anthropicEvents(t, b)
	last := events[len(events)-1]
	errObj, _ := last.data["error"].(map[string]any)
	if status != 200 || last.name != "error" || errObj["type"] != "overloaded_error" || errObj["message"] != "Overloaded" {
		t.Errorf("midstream: %d last event %s", status, last.raw)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestAnthropicCountTokens(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"*"}})
	r := anthropicReq(`{"model":"m","system":"Be terse.","messages":[{"role":"user","content":"hello there friend"}]}`, nil)
	r.path = "/v1/messages/count_tokens"
	status, _, b := f.call(r)
	if status != 200 || string(b) != `{"input_tokens":8}` {
		t.Errorf("count_tokens: %d %s", status, b)
	}
}
