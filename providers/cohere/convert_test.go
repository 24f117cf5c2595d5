package cohere

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers/providertest"
	"github.com/tollgate-llm/tollgate/schema"
)

// TestChatRequestGolden pins the translation of OpenAI requests
// (testdata/requests/*.openai.json) to /v2/chat bodies (*.cohere.json).
func TestChatRequestGolden(t *testing.T) {
	providertest.GoldenFiles(t, "requests", ".openai.json", ".cohere.json", *update, func(t *testing.T, in []byte) []byte {
		var req schema.ChatRequest
		if err := json.Unmarshal(in, &req); err != nil {
			t.Fatal(err)
		}
		cr, err := toChat(&req, req.Model, true)
		if err != nil {
			t.Fatalf("toChat: %v", err)
		}
		b, err := json.Marshal(cr)
		if err != nil {
			t.Fatal(err)
		}
		return providertest.Indent(t, b)
	})
}

// TestChatRequestRejects: requests Cohere cannot express are a 400 naming the field.
func TestChatRequestRejects(t *testing.T) {
	tests := []struct {
		name, body, param string
	}{
		{"several choices", `{"messages":[{"role":"user","content":"hi"}],"n":3}`, "n"},
		{"unknown role", `{"messages":[{"role":"function","name":"f","content":"hi"}]}`, "messages[0].role"},
		{"audio", `{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA==","format":"wav"}}]}]}`, "messages[0].content[0].type"},
		{"image without url", `{"messages":[{"role":"user","content":[{"type":"image_url"}]}]}`, "messages[0].content[0].image_url.url"},
		{"image in a tool result", `{"messages":[{"role":"tool","tool_call_id":"x","content":[{"type":"image_url","image_url":{"url":"https://x/a.png"}}]}]}`, "messages[0].content[0].type"},
		{"call without id", `{"messages":[{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}]}`, "messages[0].tool_calls[0].id and function.name"},
		{"custom tool", `{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"custom","function":{"name":"f"}}]}`, "tools[0].type"},
		{"tool without name", `{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{}}]}`, "tools[0].function.name"},
		{"bad tool_choice", `{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"any"}`, "tool_choice"},
		{"named tool not offered", `{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}}}`, "tool_choice"},
		{"bad response_format", `{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"xml"}}`, "response_format.type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req schema.ChatRequest
			if err := json.Unmarshal([]byte(tt.body), &req); err != nil {
				t.Fatal(err)
			}
			_, err := toChat(&req, "command-a-03-2025", false)
			var e *apierr.Error
			if !errors.As(err, &e) || e.Status != 400 || e.Kind != apierr.KindCaller || e.Param != tt.param {
				t.Fatalf("error %v (%+v), want a 400 caller error on %q", err, e, tt.param)
			}
		})
	}
}

// TestChatResponseGolden pins the translation of whole /v2/chat answers
// (testdata/responses/*.cohere.json) to OpenAI responses (*.openai.json), with the
// usage Response reports.
func TestChatResponseGolden(t *testing.T) {
	c := testClient(t, "")
	providertest.GoldenFiles(t, "responses", ".cohere.json", ".openai.json", *update, func(t *testing.T, in []byte) []byte {
		resp, err := c.answer(in, "command-a-03-2025", schema.NewSecret(testKey))
		if err != nil {
			t.Fatalf("answer: %v", err)
		}
		out, _ := json.Marshal(struct {
			Body     json.RawMessage `json:"body"`
			Usage    schema.Usage    `json:"tollgate_usage"`
			HasUsage bool            `json:"has_usage"`
		}{resp.Body, resp.Usage, resp.HasUsage})
		return providertest.Indent(t, out)
	})
}

// TestFinishError: a whole answer that finished with ERROR is a retryable 502, not an
// answer.
func TestFinishError(t *testing.T) {
	_, err := testClient(t, "").answer([]byte(`{"id":"x","finish_reason":"ERROR","message":{"content":[]}}`), "m", schema.Secret{})
	var e *apierr.Error
	if !errors.As(err, &e) || e.Status != 502 || !e.Retryable {
		t.Fatalf("%v, want a retryable 502", err)
	}
}
