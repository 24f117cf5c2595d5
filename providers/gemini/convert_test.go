package gemini

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers/providertest"
	"github.com/tollgate-llm/tollgate/schema"
)

// TestChatRequestGolden pins the translation of OpenAI requests
// (testdata/requests/*.openai.json) to Gemini bodies (*.gemini.json). The OpenAI
// request's model is the upstream model.
func TestChatRequestGolden(t *testing.T) {
	providertest.GoldenFiles(t, "requests", ".openai.json", ".gemini.json", *update, func(t *testing.T, in []byte) []byte {
		var req schema.ChatRequest
		if err := json.Unmarshal(in, &req); err != nil {
			t.Fatal(err)
		}
		g, err := chatRequest(&req, req.Model)
		if err != nil {
			t.Fatalf("chatRequest: %v", err)
		}
		b, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		return providertest.Indent(t, b)
	})
}

// TestChatRequestRejects: requests Gemini cannot express are a 400 naming the field,
// before anything is sent.
func TestChatRequestRejects(t *testing.T) {
	tests := []struct {
		name, body, param string
	}{
		{"no messages", `{"messages":[]}`, "messages"},
		{"only a system prompt", `{"messages":[{"role":"system","content":"hi"}]}`, "messages"},
		{"unknown role", `{"messages":[{"role":"critic","content":"hi"}]}`, "messages[0].role"},
		{"image in a system prompt", `{"messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]},{"role":"user","content":"hi"}]}`, "messages[0].content[0].type"},
		{"unknown part", `{"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"f"}}]}]}`, "messages[0].content[0].type"},
		{"data URL not base64", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]}`, "messages[0].content[0].image_url.url"},
		{"data URL bad base64", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,@@"}}]}]}`, "messages[0].content[0].image_url.url"},
		{"http image", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"http://example.com/a.png"}}]}]}`, "messages[0].content[0].image_url.url"},
		{"image type unknown", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/image"}}]}]}`, "messages[0].content[0].image_url.url"},
		{"unknown tool_call_id", `{"messages":[{"role":"user","content":"hi"},{"role":"tool","tool_call_id":"nope","content":"x"}]}`, "messages[1].tool_call_id"},
		{"arguments not JSON", `{"messages":[{"role":"user","content":"hi"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}`, "messages[1].tool_calls[0].function.arguments"},
		{"arguments an array", `{"messages":[{"role":"user","content":"hi"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}`, "messages[1].tool_calls[0].function.arguments"},
		{"custom tool", `{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"custom","function":{"name":"f"}}]}`, "tools[0].type"},
		{"schema not an object", `{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":[1]}}]}`, "tools[0].function.parameters"},
		{"bad tool_choice", `{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"sometimes"}`, "tool_choice"},
		{"allowed_tools choice", `{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"allowed_tools"}}`, "tool_choice"},
		{"bad response_format", `{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"yaml"}}`, "response_format.type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req schema.ChatRequest
			if err := json.Unmarshal([]byte(tt.body), &req); err != nil {
				t.Fatal(err)
			}
			_, err := chatRequest(&req, "gemini-2.5-flash")
			var e *apierr.Error
			if !errors.As(err, &e) || e.Status != 400 || e.Kind != apierr.KindCaller || e.Param != tt.param {
				t.Fatalf("error %v (%+v), want a 400 caller error on %q", err, e, tt.param)
			}
		})
	}
}

// TestCleanSchemaKeepsOrder: Gemini generates properties in schema order, so cleaning
// must not reorder keys.
func TestCleanSchemaKeepsOrder(t *testing.T) {
	got, err := cleanSchema(json.RawMessage(`{"type":"object","properties":{"zeta":{"type":"string"},"alpha":{"type":"number","default":1}},"$schema":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"object","properties":{"zeta":{"type":"string"},"alpha":{"type":"number"}}}`
	if string(got) != want {
		t.Errorf("cleanSchema = %s, want %s", got, want)
	}
	for _, bad := range []string{`[]`, `"x"`, `{"a":1} {"b":2}`, `{"a":`} {
		if _, err := cleanSchema(json.RawMessage(bad)); err == nil {
			t.Errorf("cleanSchema(%s): no error", bad)
		}
	}
}

// TestChatResponseGolden pins the translation of whole Gemini answers
// (testdata/responses/*.gemini.json) to OpenAI responses (*.openai.json), with the
// usage Response reports in a trailing "tollgate_usage" member.
func TestChatResponseGolden(t *testing.T) {
	c := testClient(t, "")
	providertest.GoldenFiles(t, "responses", ".gemini.json", ".openai.json", *update, func(t *testing.T, in []byte) []byte {
		resp, err := c.answer(in, "gemini-2.5-flash")
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
