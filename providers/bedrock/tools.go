package bedrock

import (
	"encoding/json"
	"fmt"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

// emptyObjectSchema is the input schema of a function declared without parameters.
var emptyObjectSchema = json.RawMessage(`{"type":"object","properties":{}}`)

// tools translates tools, tool_choice and response_format into toolConfig.
func (t *translation) tools(cr *schema.ChatRequest) error {
	choice, named, err := parseToolChoice(cr.ToolChoice)
	if err != nil {
		return err
	}
	jsonSchema, jsonMode, err := responseSchema(cr.ResponseFormat)
	if err != nil {
		return err
	}
	var specs []tool
	// tool_choice "none" has no Converse equivalent: the tools are left out, unless the
	// conversation already holds tool calls, which Converse only accepts with a
	// toolConfig (the model may then still call one).
	if choice != "none" || t.hasToolBlocks() {
		for i, tl := range cr.Tools {
			if tl.Type != "" && tl.Type != "function" {
				return unsupported(fmt.Sprintf("tools[%d].type", i), fmt.Sprintf("tools of type %q are not supported by Bedrock Converse", tl.Type))
			}
			specs = append(specs, toolOf(tl.Function))
		}
	}
	clientTools := len(specs) > 0
	if jsonMode {
		t.jsonMode = true
		specs = append(specs, tool{ToolSpec: toolSpec{Name: jsonToolName,
			Description: "Respond with the answer as JSON matching this schema.", InputSchema: inputSchema{JSON: jsonSchema}}})
	}
	if len(specs) == 0 {
		return nil
	}
	t.req.ToolConfig = &toolConfig{Tools: specs, ToolChoice: converseChoice(choice, named, jsonMode, clientTools)}
	return nil
}

// converseChoice picks toolChoice. In JSON mode without client tools the JSON tool is
// forced; with client tools the model must call one of them or the JSON tool ("any"),
// unless the client named one.
func converseChoice(choice, named string, jsonMode, clientTools bool) *toolChoice {
	switch {
	case named != "" && clientTools:
		return &toolChoice{Tool: &namedTool{Name: named}}
	case jsonMode && !clientTools:
		return &toolChoice{Tool: &namedTool{Name: jsonToolName}}
	case jsonMode, choice == "required":
		return &toolChoice{Any: &struct{}{}}
	case choice == "auto":
		return &toolChoice{Auto: &struct{}{}}
	}
	return nil
}

func toolOf(f schema.ToolFunction) tool {
	params := f.Parameters
	if len(params) == 0 || string(params) == "null" {
		params = emptyObjectSchema
	}
	return tool{ToolSpec: toolSpec{Name: f.Name, Description: f.Description, InputSchema: inputSchema{JSON: params}}}
}

// parseToolChoice reads tool_choice: "none", "auto", "required", or
// {"type":"function","function":{"name":...}} (named). Absent is "".
func parseToolChoice(raw json.RawMessage) (choice, named string, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", "", nil
	}
	if json.Unmarshal(raw, &choice) == nil {
		switch choice {
		case "none", "auto", "required":
			return choice, "", nil
		}
		return "", "", apierr.InvalidValue("tool_choice", fmt.Sprintf("unknown tool_choice %q", choice))
	}
	var obj struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if json.Unmarshal(raw, &obj) != nil || obj.Function.Name == "" {
		return "", "", apierr.InvalidValue("tool_choice", "tool_choice must be none, auto, required or name a function")
	}
	return "", obj.Function.Name, nil
}

// responseSchema reads response_format: json_object asks for any JSON object,
// json_schema for its schema, text (or nothing) for no JSON mode.
func responseSchema(rf *schema.ResponseFormat) (json.RawMessage, bool, error) {
	if rf == nil {
		return nil, false, nil
	}
	switch rf.Type {
	case "", "text":
		return nil, false, nil
	case "json_object":
		return json.RawMessage(`{"type":"object"}`), true, nil
	case "json_schema":
		var js struct {
			Schema json.RawMessage `json:"schema"`
		}
		if len(rf.JSONSchema) > 0 && json.Unmarshal(rf.JSONSchema, &js) != nil {
			return nil, false, apierr.InvalidValue("response_format.json_schema", "json_schema must be an object")
		}
		if len(js.Schema) == 0 || string(js.Schema) == "null" {
			return json.RawMessage(`{"type":"object"}`), true, nil
		}
		return js.Schema, true, nil
	}
	return nil, false, unsupported("response_format.type", fmt.Sprintf("response_format %q is not supported", rf.Type))
}

func (t *translation) hasToolBlocks() bool {
	for _, m := range t.req.Messages {
		for _, b := range m.Content {
			if b.ToolUse != nil || b.ToolResult != nil {
				return true
			}
		}
	}
	return false
}
