package bedrock

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/tollgate-llm/tollgate/schema"
)

// finishReason maps a Converse stopReason to OpenAI's finish_reason. The malformed_*
// reasons have no OpenAI equivalent; the answer simply ended, so they are "stop".
func finishReason(stop string) string {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "guardrail_intervened", "content_filtered":
		return "content_filter"
	}
	return "stop"
}

// envelope is what every translated answer carries besides its content.
type envelope struct {
	id, model string
	created   int64
}

// chatResponse translates a Converse answer.
func (t *translation) chatResponse(r *converseResponse, env envelope) *schema.ChatResponse {
	var text strings.Builder
	var calls []schema.ToolCall
	jsonAnswer := false
	if r.Output.Message != nil {
		for _, b := range r.Output.Message.Content {
			switch {
			case b.Text != nil:
				text.WriteString(*b.Text)
			case b.ToolUse != nil && t.jsonMode && b.ToolUse.Name == jsonToolName:
				text.WriteString(compactJSON(b.ToolUse.Input))
				jsonAnswer = true
			case b.ToolUse != nil:
				calls = append(calls, schema.ToolCall{ID: b.ToolUse.ToolUseID, Type: "function",
					Function: schema.FunctionCall{Name: b.ToolUse.Name, Arguments: compactJSON(b.ToolUse.Input)}})
			}
		}
	}
	finish := finishReason(r.StopReason)
	if jsonAnswer && len(calls) == 0 && finish == "tool_calls" {
		finish = "stop"
	}
	msg := schema.ResponseMessage{Role: "assistant", ToolCalls: calls}
	if text.Len() > 0 || len(calls) == 0 {
		s := text.String()
		msg.Content = &s
	}
	u := r.Usage.normalize()
	return &schema.ChatResponse{
		ID: env.id, Object: "chat.completion", Created: env.created, Model: env.model,
		Choices: []schema.ChatChoice{{Index: 0, Message: msg, Logprobs: jsonNull, FinishReason: finish}},
		Usage:   u.WireUsage(),
	}
}

var jsonNull = json.RawMessage("null")

// compactJSON renders a tool input as OpenAI's arguments string; a missing input is {}.
func compactJSON(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return "{}"
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}
