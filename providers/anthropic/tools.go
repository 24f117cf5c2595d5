package anthropic

import (
	"encoding/json"
	"fmt"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

// emptySchema is the input schema of a function declared without parameters.
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

// convertTools translates function tools and tool_choice. parallel_tool_calls false
// becomes disable_parallel_tool_use, its inverse.
func convertTools(req *schema.ChatRequest, out *messagesRequest) error {
	for i, t := range req.Tools {
		if t.Type != "function" {
			return apierr.InvalidValue(fmt.Sprintf("tools[%d].type", i),
				fmt.Sprintf("tools of type %q cannot be sent to an Anthropic model", t.Type))
		}
		if t.Function.Name == "" {
			return apierr.MissingField(fmt.Sprintf("tools[%d].function.name", i))
		}
		params := t.Function.Parameters
		if len(params) == 0 || string(params) == "null" {
			params = emptySchema
		}
		out.Tools = append(out.Tools, tool{Name: t.Function.Name, Description: t.Function.Description,
			InputSchema: params, Strict: t.Function.Strict})
	}
	if len(out.Tools) == 0 {
		return nil // tool_choice without tools says nothing
	}
	choice, err := convertToolChoice(req.ToolChoice)
	if err != nil {
		return err
	}
	if p := req.ParallelToolCalls; p != nil && !*p && choice.Type != "none" {
		choice.DisableParallelToolUse = true
	}
	if choice.Type != "auto" || choice.DisableParallelToolUse || len(req.ToolChoice) > 0 {
		out.ToolChoice = choice
	}
	return nil
}

// convertToolChoice maps "auto", "none", "required" (any) and a named function (tool).
func convertToolChoice(raw json.RawMessage) (*toolChoice, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return &toolChoice{Type: "auto"}, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "auto", "none":
			return &toolChoice{Type: s}, nil
		case "required":
			return &toolChoice{Type: "any"}, nil
		}
		return nil, apierr.InvalidValue("tool_choice", fmt.Sprintf("unknown tool_choice %q", s))
	}
	var named struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &named); err != nil || named.Function.Name == "" {
		return nil, apierr.InvalidValue("tool_choice", "tool_choice must be auto, none, required or a named function")
	}
	return &toolChoice{Type: "tool", Name: named.Function.Name}, nil
}

// convertFormat translates response_format. json_schema uses Anthropic's structured
// outputs (output_config.format), which constrain decoding to the schema; json_object
// has no Anthropic equivalent and adds jsonInstruction to the system prompt. It returns
// the system prompt.
func convertFormat(rf *schema.ResponseFormat, system string, out *messagesRequest) (string, error) {
	if rf == nil {
		return system, nil
	}
	switch rf.Type {
	case "", "text":
		return system, nil
	case "json_object":
		if system == "" {
			return jsonInstruction, nil
		}
		return system + "\n\n" + jsonInstruction, nil
	case "json_schema":
		var js struct {
			Schema json.RawMessage `json:"schema"`
		}
		if err := json.Unmarshal(rf.JSONSchema, &js); err != nil || len(js.Schema) == 0 || string(js.Schema) == "null" {
			return "", apierr.InvalidValue("response_format.json_schema.schema", "json_schema needs a schema")
		}
		out.OutputConfig = &outputConfig{Format: &outputFormat{Type: "json_schema", Schema: js.Schema}}
		return system, nil
	}
	return "", apierr.InvalidValue("response_format.type", fmt.Sprintf("unknown response_format type %q", rf.Type))
}
