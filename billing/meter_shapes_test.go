package billing

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/tidwall/gjson"
)

// pathText is what AddChunk must collect from a payload, written the obvious way: one
// path lookup per field, in counting order.
func pathText(payload []byte) string {
	var b bytes.Buffer
	paths := []string{"delta.content", "delta.reasoning_content", "delta.reasoning", "delta.refusal",
		"message.content", "message.reasoning_content", "message.reasoning", "message.refusal", "text"}
	gjson.GetBytes(payload, "choices").ForEach(func(_, choice gjson.Result) bool {
		for _, p := range paths {
			if v := choice.Get(p); v.Type == gjson.String {
				b.WriteString(v.Str)
			}
		}
		for _, path := range []string{"delta.tool_calls", "message.tool_calls"} {
			choice.Get(path).ForEach(func(_, call gjson.Result) bool {
				b.WriteString(call.Get("function.name").Str)
				b.WriteString(call.Get("function.arguments").Str)
				return true
			})
		}
		return true
	})
	return b.String()
}

// TestAddChunkCollectsWhatPathsFind checks the one-pass AddChunk against path lookups,
// on recorded provider streams and on odd shapes: duplicate keys, nulls, both a delta
// and a message, several choices and tool calls, text of the wrong type.
func TestAddChunkCollectsWhatPathsFind(t *testing.T) {
	payloads := []string{
		`{"choices":[{"delta":{"role":"assistant","content":""}}]}`,
		`{"choices":[{"delta":{"content":"a","content":"b"}}]}`,
		`{"choices":[{"delta":{"content":null,"refusal":"no"}}]}`,
		`{"choices":[{"delta":{"refusal":"r","reasoning":"x","content":"c","reasoning_content":"y"}}]}`,
		`{"choices":[{"message":{"content":"m"},"delta":{"content":"d"},"text":"t"}]}`,
		`{"choices":[{"delta":{"content":"first"},"delta":{"content":"second"}}]}`,
		`{"choices":[{"delta":"not an object","delta":{"content":"later"}}]}`,
		`{"choices":[{"delta":{"role":"assistant"},"delta":{"content":"later"},"delta":{"content":"last"}}]}`,
		`{"choices":[{"delta":{"content":null},"delta":{"content":"later"}}]}`,
		`{"choices":[{"delta":[1],"message":null,"message":{"refusal":"r"}}]}`,
		`{"choices":[{"text":null,"text":"second"}]}`,
		`{"choices":[{"text":1},{"text":"two"},{"text":null}]}`,
		`{"choices":[{"index":0,"delta":{"content":"x"}},{"index":1,"delta":{"content":"y"}}]}`,
		`{"choices":[{"delta":{"tool_calls":[{"function":{"name":"f","arguments":"{\"a\""}},` +
			`{"function":{"arguments":":1}"}}]},"message":{"tool_calls":[{"function":{"name":"g"}}]}}]}`,
		`{"choices":[{"delta":{"content":"z","tool_calls":null}}]}`,
		`{"choices":[],"usage":{"prompt_tokens":3}}`,
		`{"choices":{"not":"an array"}}`,
		`not json`,
	}
	files, _ := filepath.Glob("../providers/openai/testdata/*.sse")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			if p, ok := bytes.CutPrefix(line, []byte("data: ")); ok {
				payloads = append(payloads, string(p))
			}
		}
	}
	if len(payloads) < 40 {
		t.Fatalf("only %d payloads: the recorded streams are missing", len(payloads))
	}
	for _, p := range payloads {
		m := NewStreamMeter("gpt-4o")
		m.AddChunk([]byte(p))
		if got, want := m.buf.String(), pathText([]byte(p)); got != want {
			t.Errorf("AddChunk(%s) collected %q, paths find %q", p, got, want)
		}
	}
}

func BenchmarkAddChunk(b *testing.B) {
	chunk := []byte(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",` +
		`"system_fingerprint":"fp","choices":[{"index":0,"delta":{"content":" hello"},"logprobs":null,"finish_reason":null}]}`)
	b.ReportAllocs()
	m := NewStreamMeter("gpt-4o")
	for b.Loop() {
		m.AddChunk(chunk)
		if m.buf.Len() > 1<<10 {
			m.buf.Reset()
		}
	}
}
