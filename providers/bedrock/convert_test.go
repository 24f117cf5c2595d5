package bedrock

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

// TestRequestGolden translates each OpenAI request in testdata/requests and compares
// the Converse body with its golden file.
func TestRequestGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "requests", "*.json"))
	if len(files) == 0 {
		t.Fatal("no request fixtures")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, out, err := translate(&providers.Call{Request: &schema.Request{Body: body}})
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, out, "", "  "); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("requests", name+".converse.golden"), append(pretty.Bytes(), '\n'))
		})
	}
}

// TestRequestErrors checks requests Converse cannot express: each is a 400 naming the
// offending parameter, before anything is sent upstream.
func TestRequestErrors(t *testing.T) {
	user := func(content string) string {
		return `{"model":"m","messages":[{"role":"user","content":` + content + `}]}`
	}
	tests := []struct {
		name, body, code, param string
	}{
		{"image link", user(`[{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]`),
			"unsupported_value", "messages[0].content[0].image_url.url"},
		{"image of another type", user(`[{"type":"image_url","image_url":{"url":"data:image/bmp;base64,Qk0="}}]`),
			"unsupported_value", "messages[0].content[0].image_url.url"},
		{"image not base64", user(`[{"type":"image_url","image_url":{"url":"data:image/png;base64,@@@"}}]`),
			"invalid_value", "messages[0].content[0].image_url.url"},
		{"audio part", user(`[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]`),
			"unsupported_value", "messages[0].content[0]"},
		{"several choices", `{"model":"m","n":2,"messages":[{"role":"user","content":"hi"}]}`, "unsupported_value", "n"},
		{"arguments not an object", `{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant",` +
			`"tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}`,
			"invalid_value", "messages[1].tool_calls[0].function.arguments"},
		{"unknown role", `{"model":"m","messages":[{"role":"critic","content":"hi"}]}`, "invalid_value", "messages[0].role"},
		{"only a system prompt", `{"model":"m","messages":[{"role":"system","content":"be nice"}]}`, "missing_field", "messages"},
		{"bad tool_choice", `{"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":"sometimes"}`,
			"invalid_value", "tool_choice"},
		{"other tool type", `{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"web_search"}]}`,
			"unsupported_value", "tools[0].type"},
		{"unknown response format", `{"model":"m","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"xml"}}`,
			"unsupported_value", "response_format.type"},
		{"not JSON", `{"model":`, "invalid_json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := translate(&providers.Call{Request: &schema.Request{Body: []byte(tt.body)}})
			var e *apierr.Error
			if !errors.As(err, &e) {
				t.Fatalf("translate = %v, want an *apierr.Error", err)
			}
			if e.Status != 400 || e.Kind != apierr.KindCaller || e.Code != tt.code || e.Param != tt.param {
				t.Errorf("got %d %v %s param %q, want 400 caller %s param %q", e.Status, e.Kind, e.Code, e.Param, tt.code, tt.param)
			}
		})
	}
}

func TestEscapeSegment(t *testing.T) {
	for in, want := range map[string]string{
		"anthropic.claude-3-5-haiku-20241022-v1:0":                                                           "anthropic.claude-3-5-haiku-20241022-v1%3A0",
		"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0": "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-haiku-20240307-v1%3A0",
		"a b~c": "a%20b~c",
	} {
		if got := escapeSegment(in); got != want {
			t.Errorf("escapeSegment(%q) = %q, want %q", in, got, want)
		}
	}
}
