package anthropic

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

func build(t *testing.T, body string) (*messagesRequest, error) {
	t.Helper()
	var req schema.ChatRequest
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatalf("bad test body: %v", err)
	}
	return buildRequest(&req, "claude-3-5-haiku-20241022", false)
}

// TestBuildRequestRefusals: what cannot be said to Anthropic is a 400 naming the field.
func TestBuildRequestRefusals(t *testing.T) {
	user := `{"role":"user","content":"hi"}`
	tests := []struct{ name, body, param string }{
		{"n above 1", `{"messages":[` + user + `],"n":2}`, "n"},
		{"logprobs", `{"messages":[` + user + `],"logprobs":true}`, "logprobs"},
		{"bad tool arguments", `{"messages":[` + user + `,{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}`,
			"messages[1].tool_calls[0].function.arguments"},
		{"array arguments", `{"messages":[` + user + `,{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}`,
			"messages[1].tool_calls[0].function.arguments"},
		{"ftp image", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/a.png"}}]}]}`,
			"messages[0].content[0].image_url"},
		{"data URL not base64", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]}`,
			"messages[0].content[0].image_url"},
		{"audio part", `{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"x","format":"wav"}}]}]}`,
			"messages[0].content[0].type"},
		{"function role", `{"messages":[{"role":"function","name":"f","content":"x"}]}`, "messages[0].role"},
		{"tool without id", `{"messages":[{"role":"tool","content":"x"}]}`, "messages[0].tool_call_id"},
		{"bad content", `{"messages":[{"role":"user","content":7}]}`, "messages[0].content"},
		{"non-function tool", `{"messages":[` + user + `],"tools":[{"type":"code_interpreter"}]}`, "tools[0].type"},
		{"unnamed tool", `{"messages":[` + user + `],"tools":[{"type":"function","function":{}}]}`, "tools[0].function.name"},
		{"unknown tool_choice", `{"messages":[` + user + `],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"sometimes"}`, "tool_choice"},
		{"schema missing", `{"messages":[` + user + `],"response_format":{"type":"json_schema","json_schema":{"name":"x"}}}`,
			"response_format.json_schema.schema"},
		{"unknown format", `{"messages":[` + user + `],"response_format":{"type":"yaml"}}`, "response_format.type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := build(t, tt.body)
			var e *apierr.Error
			if !errors.As(err, &e) || e.Status != 400 || e.Kind != apierr.KindCaller || e.Param != tt.param {
				t.Errorf("error %v, want a caller 400 on %s", err, tt.param)
			}
		})
	}
}

// TestToolChoice covers every tool_choice form and the parallel flag.
func TestToolChoice(t *testing.T) {
	tools := `"tools":[{"type":"function","function":{"name":"f"}}]`
	tests := []struct{ extra, want string }{
		{``, `null`},
		{`,"tool_choice":"auto"`, `{"type":"auto"}`},
		{`,"tool_choice":"none"`, `{"type":"none"}`},
		{`,"tool_choice":"required"`, `{"type":"any"}`},
		{`,"tool_choice":{"type":"function","function":{"name":"f"}}`, `{"type":"tool","name":"f"}`},
		{`,"parallel_tool_calls":false`, `{"type":"auto","disable_parallel_tool_use":true}`},
		{`,"tool_choice":"none","parallel_tool_calls":false`, `{"type":"none"}`},
	}
	for _, tt := range tests {
		mr, err := build(t, `{"messages":[{"role":"user","content":"x"}],`+tools+tt.extra+`}`)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := json.Marshal(mr.ToolChoice); string(got) != tt.want {
			t.Errorf("%s: tool_choice %s, want %s", tt.extra, got, tt.want)
		}
	}
	mr, _ := build(t, `{"messages":[{"role":"user","content":"x"}],"tool_choice":"required"}`)
	if mr.ToolChoice != nil {
		t.Errorf("tool_choice without tools was sent: %+v", mr.ToolChoice)
	}
}

// TestMessageMerging: roles alternate, tool results lead their user turn, and empty
// assistant turns vanish.
func TestMessageMerging(t *testing.T) {
	mr, err := build(t, `{"messages":[
		{"role":"user","content":"a"},{"role":"user","content":"b"},
		{"role":"assistant","content":"","tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{}"}}]},
		{"role":"user","content":"interjection"},
		{"role":"tool","tool_call_id":"t1","content":"result"},
		{"role":"assistant","content":"  "},
		{"role":"assistant","content":"done"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	var roles, types []string
	for _, m := range mr.Messages {
		roles = append(roles, m.Role)
		var ts []string
		for _, b := range m.Content {
			ts = append(ts, b.Type)
		}
		types = append(types, strings.Join(ts, "+"))
	}
	if got := strings.Join(roles, ","); got != "user,assistant,user,assistant" {
		t.Errorf("roles %s", got)
	}
	if got := strings.Join(types, ","); got != "text+text,tool_use,tool_result+text,text" {
		t.Errorf("blocks %s", got)
	}
}

func TestMaxTokens(t *testing.T) {
	tests := []struct {
		model string
		want  int64
	}{
		{"claude-opus-4-6", 128000}, {"claude-opus-4-1-20250805", 32000}, {"claude-opus-4-20250514", 32000},
		{"claude-sonnet-4-5-20250929", 64000}, {"claude-3-5-sonnet-latest", 8192}, {"claude-3-haiku-20240307", 4096},
		{"claude-future-9", DefaultMaxTokens}, {"", DefaultMaxTokens},
	}
	for _, tt := range tests {
		if got := MaxOutputTokens(tt.model); got != tt.want {
			t.Errorf("MaxOutputTokens(%q) = %d, want %d", tt.model, got, tt.want)
		}
	}
	mr, _ := build(t, `{"messages":[{"role":"user","content":"x"}],"max_tokens":50,"max_completion_tokens":70}`)
	if mr.MaxTokens != 70 {
		t.Errorf("max_completion_tokens should win: %d", mr.MaxTokens)
	}
}

func TestThinkingBudget(t *testing.T) {
	tests := []struct {
		effort string
		max    int64
		want   int64 // 0: no thinking
	}{{"low", 4096, 1024}, {"medium", 4096, 2048}, {"high", 4096, 4095}, {"high", 1024, 0}, {"minimal", 9000, 0}, {"", 9000, 0}}
	for _, tt := range tests {
		got := thinking(tt.effort, tt.max)
		if (got == nil) != (tt.want == 0) || got != nil && (got.BudgetTokens != tt.want || got.Type != "enabled") {
			t.Errorf("thinking(%q, %d) = %+v, want budget %d", tt.effort, tt.max, got, tt.want)
		}
	}
}

func TestFinishReason(t *testing.T) {
	for stop, want := range map[string]string{"end_turn": "stop", "stop_sequence": "stop", "pause_turn": "stop",
		"max_tokens": "length", "model_context_window_exceeded": "length", "tool_use": "tool_calls",
		"refusal": "content_filter", "something_new": "stop"} {
		if got := finishReason(stop); got != want {
			t.Errorf("finishReason(%q) = %q, want %q", stop, got, want)
		}
	}
}

// TestPrefill: a final assistant turn is a prefill without trailing whitespace.
func TestPrefill(t *testing.T) {
	mr, err := build(t, `{"messages":[{"role":"user","content":"Count"},{"role":"assistant","content":"1, 2, "}]}`)
	if err != nil {
		t.Fatal(err)
	}
	last := mr.Messages[len(mr.Messages)-1]
	if last.Role != "assistant" || *last.Content[0].Text != "1, 2," {
		t.Errorf("prefill %+v", last)
	}
}
