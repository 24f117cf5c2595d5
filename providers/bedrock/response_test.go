package bedrock

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/schema"
)

// TestResponseGolden translates each Converse answer in testdata/responses (files named
// json_* as JSON-mode answers) and compares the OpenAI body and usage with golden files.
func TestResponseGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "responses", "*.json"))
	if len(files) == 0 {
		t.Fatal("no response fixtures")
	}
	env := envelope{id: "chatcmpl-req-1", model: testModel, created: 1755777600}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			tr := &translation{jsonMode: strings.HasPrefix(name, "json_")}
			resp, err := tr.answer(raw, env)
			if err != nil {
				t.Fatal(err)
			}
			var cr schema.ChatResponse
			if err := json.Unmarshal(resp.Body, &cr); err != nil {
				t.Fatal(err)
			}
			if got := resp.Usage.WireUsage(); *got != *cr.Usage && !sameWire(got, cr.Usage) {
				t.Errorf("Response.Usage %+v disagrees with the body", resp.Usage)
			}
			var pretty bytes.Buffer
			_ = json.Indent(&pretty, resp.Body, "", "  ")
			golden(t, filepath.Join("responses", name+".openai.golden"), append(pretty.Bytes(), '\n'))
		})
	}
}

func sameWire(a, b *schema.UsageJSON) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestUsageNormalisation pins Bedrock's usage semantics: inputTokens excludes cache
// reads and writes, so prompt_tokens adds them back; cached_tokens are the reads and
// cache_write_tokens the writes.
func TestUsageNormalisation(t *testing.T) {
	u := (&tokenUsage{InputTokens: 12, OutputTokens: 4, TotalTokens: 1216, CacheReadInputTokens: 1000,
		CacheWriteInputTokens: 200}).normalize()
	want := schema.Usage{PromptTokens: 1212, CompletionTokens: 4, TotalTokens: 1216, CachedTokens: 1000, CacheWriteTokens: 200}
	if u != want {
		t.Errorf("usage %+v, want %+v", u, want)
	}
	if (*tokenUsage)(nil).normalize() != (schema.Usage{}) {
		t.Error("nil usage is not zero")
	}
}

func TestResponseGarbage(t *testing.T) {
	for _, raw := range []string{``, `<html>`, `{}`, `{"output":{}}`, `[]`, `{"output":{"message":null}}`} {
		if _, err := (&translation{}).answer([]byte(raw), envelope{}); err == nil {
			t.Errorf("answer(%q) accepted garbage", raw)
		}
	}
}

func TestFinishReasons(t *testing.T) {
	for stop, want := range map[string]string{"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
		"model_context_window_exceeded": "length", "tool_use": "tool_calls", "guardrail_intervened": "content_filter",
		"content_filtered": "content_filter", "malformed_tool_use": "stop", "": "stop"} {
		if got := finishReason(stop); got != want {
			t.Errorf("finishReason(%q) = %q, want %q", stop, got, want)
		}
	}
}
