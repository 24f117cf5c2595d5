package providertest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// recorder collects what a check reports.
type recorder struct{ errs []string }

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

const (
	first  = `{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`
	text   = `{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"}}]}`
	finish = `{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`
	usage  = `{"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`
	call0  = `{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"t","type":"function","function":{"name":"f","arguments":""}}]}}]}`
	args0  = `{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]}`
)

// TestFraming: the stream checks accept OpenAI's framing and catch each way a
// translation can break it.
func TestFraming(t *testing.T) {
	tests := []struct {
		name    string
		chunks  []string
		usage   bool
		wantErr string // "" for a clean stream
	}{
		{"clean", []string{first, text, finish}, false, ""},
		{"clean with usage", []string{first, text, finish, usage}, true, ""},
		{"tool call", []string{first, call0, args0, finish}, false, ""},
		{"no role", []string{text, finish}, false, "delta.role"},
		{"no finish", []string{first, text}, false, "finish_reason"},
		{"content after finish", []string{first, finish, text}, false, "after finish_reason"},
		{"usage not asked", []string{first, finish, usage}, false, "include_usage"},
		{"usage missing", []string{first, finish}, true, "include_usage"},
		{"chunk after usage", []string{first, finish, usage, text}, true, "after the usage chunk"},
		{"tool call without id", []string{first, args0, finish}, false, "lacks id"},
		{"id repeated", []string{first, call0, call0, finish}, false, "repeated"},
		{"other id", []string{first, strings.Replace(text, `"c1"`, `"c2"`, 1), finish}, false, "envelope"},
		{"not json", []string{first, "{", finish}, false, "not a chat.completion.chunk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{}
			f := framing{t: r, out: &streamed{}}
			for _, c := range tt.chunks {
				f.chunk([]byte(c))
			}
			f.end(tt.usage)
			got := strings.Join(r.errs, "\n")
			if (tt.wantErr == "") != (got == "") || !strings.Contains(got, tt.wantErr) {
				t.Errorf("reported %q, want %q", got, tt.wantErr)
			}
		})
	}
}

// TestPaths: values are located with their keys and enclosing roles, which the
// dialect-neutral upstream checks rely on.
func TestPaths(t *testing.T) {
	var doc any
	_ = json.Unmarshal([]byte(`{"system":"S1","systemInstruction":{"parts":[{"text":"S2"}]},
		"messages":[{"role":"system","content":"S3"},{"role":"user","content":[{"type":"text","text":"U1"}]}],
		"inferenceConfig":{"stopSequences":["END"]}}`), &doc)
	got := map[string]path{}
	walk(doc, nil, func(p path, v string) { got[v] = append(path(nil), p...) })
	for v, want := range map[string]bool{"S1": true, "S2": true, "S3": true, "U1": false} {
		if isSystemPath(got[v]) != want {
			t.Errorf("%s at %s: system %v, want %v", v, got[v], !want, want)
		}
	}
	if !got["END"].has("stop") || !got["U1"].inRole("user") {
		t.Errorf("END at %s, U1 at %s", got["END"], got["U1"])
	}
}
