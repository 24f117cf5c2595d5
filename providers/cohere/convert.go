package cohere

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

// toChat translates an OpenAI chat request into a /v2/chat body for model.
func toChat(req *schema.ChatRequest, model string, stream bool) (*chatRequest, error) {
	if req.N != nil && *req.N != 1 {
		return nil, apierr.InvalidValue("n", "the cohere provider answers with one choice; n must be 1")
	}
	msgs, err := convertMessages(req.Messages)
	if err != nil {
		return nil, err
	}
	out := &chatRequest{Model: model, Messages: msgs, Stream: stream, StopSequences: req.Stop,
		Temperature: req.Temperature, P: req.TopP, Seed: req.Seed,
		FrequencyPenalty: req.FrequencyPenalty, PresencePenalty: req.PresencePenalty}
	if n := req.OutputCap(); n > 0 {
		out.MaxTokens = &n
	}
	if out.Tools, err = convertTools(req.Tools); err != nil {
		return nil, err
	}
	if len(out.Tools) > 0 {
		if out.Tools, out.ToolChoice, err = toolChoice(req.ToolChoice, out.Tools); err != nil {
			return nil, err
		}
	}
	out.ResponseFormat, err = convertFormat(req.ResponseFormat)
	return out, err
}

// convertMessages maps OpenAI messages to v2 messages. System and developer messages
// are joined into one system message at the start (Cohere wants the system turn
// first); an assistant's text beside tool calls becomes its tool_plan.
func convertMessages(msgs []schema.Message) ([]message, error) {
	var system []string
	out := make([]message, 0, len(msgs)+1)
	for i := range msgs {
		m := &msgs[i]
		field := fmt.Sprintf("messages[%d]", i)
		switch m.Role {
		case "system", "developer":
			text, err := textOnly(field, m)
			if err != nil {
				return nil, err
			}
			if text != "" {
				system = append(system, text)
			}
		case "user":
			c, err := userContent(field, m)
			if err != nil {
				return nil, err
			}
			out = append(out, message{Role: "user", Content: c})
		case "assistant":
			am, err := assistantMessage(field, m)
			if err != nil {
				return nil, err
			}
			if am.Content != nil || len(am.ToolCalls) > 0 {
				// Cohere rejects an empty turn; a null assistant message says nothing.
				out = append(out, am)
			}
		case "tool":
			text, err := textOnly(field, m)
			if err != nil {
				return nil, err
			}
			out = append(out, message{Role: "tool", ToolCallID: m.ToolCallID, Content: text})
		default:
			return nil, apierr.InvalidValue(field+".role", fmt.Sprintf("message role %q is not supported by the cohere provider", m.Role))
		}
	}
	if len(system) > 0 {
		out = append([]message{{Role: "system", Content: strings.Join(system, "\n\n")}}, out...)
	}
	return out, nil
}

// textOnly returns the text of a message that may only hold text parts.
func textOnly(field string, m *schema.Message) (string, error) {
	parts, err := m.Parts()
	if err != nil {
		return "", apierr.InvalidValue(field+".content", "content must be a string or an array of content parts")
	}
	var b strings.Builder
	for j, p := range parts {
		if p.Type != "text" {
			return "", apierr.InvalidValue(fmt.Sprintf("%s.content[%d].type", field, j),
				fmt.Sprintf("a %s message may only contain text parts, not %q", m.Role, p.Type))
		}
		b.WriteString(p.Text)
	}
	return b.String(), nil
}

// userContent is a plain string, or content items when the message has images.
func userContent(field string, m *schema.Message) (any, error) {
	parts, err := m.Parts()
	if err != nil {
		return nil, apierr.InvalidValue(field+".content", "content must be a string or an array of content parts")
	}
	if len(m.Content) > 0 && m.Content[0] == '"' {
		return parts[0].Text, nil
	}
	items := make([]contentItem, 0, len(parts))
	for j, p := range parts {
		switch p.Type {
		case "text":
			items = append(items, contentItem{Type: "text", Text: p.Text})
		case "image_url":
			if p.ImageURL == nil || p.ImageURL.URL == "" {
				return nil, apierr.MissingField(fmt.Sprintf("%s.content[%d].image_url.url", field, j))
			}
			items = append(items, contentItem{Type: "image_url", ImageURL: &imageURL{URL: p.ImageURL.URL, Detail: p.ImageURL.Detail}})
		default:
			return nil, apierr.InvalidValue(fmt.Sprintf("%s.content[%d].type", field, j),
				fmt.Sprintf("content part type %q is not supported by the cohere provider", p.Type))
		}
	}
	return items, nil
}

func assistantMessage(field string, m *schema.Message) (message, error) {
	text, err := textOnly(field, m)
	if err != nil {
		return message{}, err
	}
	out := message{Role: "assistant"}
	for k, tc := range m.ToolCalls {
		if tc.ID == "" || tc.Function.Name == "" {
			return message{}, apierr.MissingField(fmt.Sprintf("%s.tool_calls[%d].id and function.name", field, k))
		}
		args := tc.Function.Arguments
		if strings.TrimSpace(args) == "" {
			args = "{}"
		}
		out.ToolCalls = append(out.ToolCalls, toolCall{ID: tc.ID, Type: "function",
			Function: functionCall{Name: tc.Function.Name, Arguments: args}})
	}
	switch {
	case len(out.ToolCalls) > 0:
		out.ToolPlan = text
	case text != "":
		out.Content = text
	}
	return out, nil
}

func convertTools(ts []schema.Tool) ([]tool, error) {
	out := make([]tool, 0, len(ts))
	for i, t := range ts {
		if t.Type != "" && t.Type != "function" {
			return nil, apierr.InvalidValue(fmt.Sprintf("tools[%d].type", i),
				fmt.Sprintf("tool type %q is not supported by the cohere provider; only function tools are", t.Type))
		}
		if t.Function.Name == "" {
			return nil, apierr.MissingField(fmt.Sprintf("tools[%d].function.name", i))
		}
		params := t.Function.Parameters
		if len(params) == 0 || string(params) == "null" {
			params = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		out = append(out, tool{Type: "function", Function: toolFunction{Name: t.Function.Name,
			Description: t.Function.Description, Parameters: params}})
	}
	return out, nil
}

// toolChoice maps tool_choice: auto is Cohere's default; none is NONE; required is
// REQUIRED; a named function is REQUIRED with only that function offered, since Cohere
// cannot name one.
func toolChoice(raw json.RawMessage, tools []tool) ([]tool, string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return tools, "", nil
	}
	var mode string
	if json.Unmarshal(raw, &mode) == nil {
		switch mode {
		case "auto":
			return tools, "", nil
		case "none":
			return tools, "NONE", nil
		case "required":
			return tools, "REQUIRED", nil
		}
		return nil, "", apierr.InvalidValue("tool_choice", fmt.Sprintf("tool_choice %q is not one of none, auto or required", mode))
	}
	var named struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if json.Unmarshal(raw, &named) == nil && named.Function.Name != "" {
		for _, t := range tools {
			if t.Function.Name == named.Function.Name {
				return []tool{t}, "REQUIRED", nil
			}
		}
		return nil, "", apierr.InvalidValue("tool_choice", fmt.Sprintf("tool_choice names %q, which is not among the tools", named.Function.Name))
	}
	return nil, "", apierr.InvalidValue("tool_choice",
		"tool_choice must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":...}}")
}

// convertFormat maps response_format: json_object and json_schema are Cohere's
// json_object, the latter with its schema.
func convertFormat(rf *schema.ResponseFormat) (*responseFormat, error) {
	if rf == nil {
		return nil, nil
	}
	switch rf.Type {
	case "", "text":
		return nil, nil
	case "json_object":
		return &responseFormat{Type: "json_object"}, nil
	case "json_schema":
		var js struct {
			Schema json.RawMessage `json:"schema"`
		}
		if len(rf.JSONSchema) > 0 && json.Unmarshal(rf.JSONSchema, &js) != nil {
			return nil, apierr.InvalidValue("response_format.json_schema", "response_format.json_schema must be an object")
		}
		return &responseFormat{Type: "json_object", JSONSchema: js.Schema}, nil
	}
	return nil, apierr.InvalidValue("response_format.type",
		fmt.Sprintf("response_format type %q is not one of text, json_object or json_schema", rf.Type))
}
