package gemini

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

// Function-calling modes.
const (
	modeAuto = "AUTO"
	modeAny  = "ANY"
	modeNone = "NONE"
)

// chatRequest translates an OpenAI chat request into a generateContent body for model.
func chatRequest(req *schema.ChatRequest, model string) (*generateRequest, error) {
	sys, contents, err := convertMessages(req.Messages)
	if err != nil {
		return nil, err
	}
	out := &generateRequest{Contents: contents, SystemInstruction: sys}
	if out.Tools, err = convertTools(req.Tools); err != nil {
		return nil, err
	}
	if len(out.Tools) > 0 {
		if out.ToolConfig, err = convertToolChoice(req.ToolChoice); err != nil {
			return nil, err
		}
	}
	if out.GenerationConfig, err = convertConfig(req, model); err != nil {
		return nil, err
	}
	return out, nil
}

// convertTools declares the OpenAI function tools, their parameters cleaned of the JSON
// Schema keywords Gemini does not support.
func convertTools(ts []schema.Tool) ([]tool, error) {
	if len(ts) == 0 {
		return nil, nil
	}
	decls := make([]functionDeclaration, 0, len(ts))
	for i, t := range ts {
		if t.Type != "" && t.Type != "function" {
			return nil, apierr.InvalidValue(fmt.Sprintf("tools[%d].type", i),
				fmt.Sprintf("tool type %q is not supported by the gemini provider; only function tools are", t.Type))
		}
		if t.Function.Name == "" {
			return nil, apierr.MissingField(fmt.Sprintf("tools[%d].function.name", i))
		}
		params, err := cleanSchema(t.Function.Parameters)
		if err != nil {
			return nil, apierr.InvalidValue(fmt.Sprintf("tools[%d].function.parameters", i),
				"the function parameters are not a JSON Schema object")
		}
		decls = append(decls, functionDeclaration{Name: t.Function.Name, Description: t.Function.Description,
			ParametersJSONSchema: params})
	}
	return []tool{{FunctionDeclarations: decls}}, nil
}

// convertToolChoice maps tool_choice: auto → AUTO, none → NONE, required → ANY, and a
// named function → ANY restricted to that function.
func convertToolChoice(raw json.RawMessage) (*toolConfig, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var mode string
	if json.Unmarshal(raw, &mode) == nil {
		switch mode {
		case "auto":
			return &toolConfig{FunctionCallingConfig: functionCallingConfig{Mode: modeAuto}}, nil
		case "none":
			return &toolConfig{FunctionCallingConfig: functionCallingConfig{Mode: modeNone}}, nil
		case "required":
			return &toolConfig{FunctionCallingConfig: functionCallingConfig{Mode: modeAny}}, nil
		}
		return nil, apierr.InvalidValue("tool_choice", fmt.Sprintf("tool_choice %q is not one of none, auto or required", mode))
	}
	var named struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &named); err != nil || named.Function.Name == "" ||
		(named.Type != "" && named.Type != "function") {
		return nil, apierr.InvalidValue("tool_choice",
			"tool_choice must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":...}} for the gemini provider")
	}
	return &toolConfig{FunctionCallingConfig: functionCallingConfig{Mode: modeAny,
		AllowedFunctionNames: []string{named.Function.Name}}}, nil
}

// convertConfig builds the generationConfig, or nil when the request sets none of it.
func convertConfig(req *schema.ChatRequest, model string) (*generationConfig, error) {
	gc := generationConfig{
		Temperature: req.Temperature, TopP: req.TopP, StopSequences: req.Stop,
		PresencePenalty: req.PresencePenalty, FrequencyPenalty: req.FrequencyPenalty, Seed: req.Seed,
	}
	if n := req.OutputCap(); n > 0 {
		gc.MaxOutputTokens = &n
	}
	if req.N != nil && *req.N != 1 {
		gc.CandidateCount = req.N
	}
	if err := responseFormat(req.ResponseFormat, &gc); err != nil {
		return nil, err
	}
	gc.ThinkingConfig = thinking(req.ReasoningEffort, model)
	if isZero(gc) {
		return nil, nil
	}
	return &gc, nil
}

func isZero(gc generationConfig) bool {
	b, _ := json.Marshal(gc) // the struct always marshals
	return string(b) == "{}"
}

// responseFormat maps json_object to responseMimeType application/json, and
// json_schema to that plus responseJsonSchema (plain JSON Schema, cleaned).
func responseFormat(rf *schema.ResponseFormat, gc *generationConfig) error {
	if rf == nil {
		return nil
	}
	switch rf.Type {
	case "", "text":
		return nil
	case "json_object":
		gc.ResponseMimeType = "application/json"
		return nil
	case "json_schema":
		gc.ResponseMimeType = "application/json"
		var js struct {
			Schema json.RawMessage `json:"schema"`
		}
		if len(rf.JSONSchema) > 0 && json.Unmarshal(rf.JSONSchema, &js) != nil {
			return apierr.InvalidValue("response_format.json_schema", "response_format.json_schema must be an object")
		}
		s, err := cleanSchema(js.Schema)
		if err != nil {
			return apierr.InvalidValue("response_format.json_schema.schema", "the response schema is not a JSON Schema object")
		}
		gc.ResponseJSONSchema = s
		return nil
	}
	return apierr.InvalidValue("response_format.type",
		fmt.Sprintf("response_format type %q is not one of text, json_object or json_schema", rf.Type))
}

// thinkingBudgets maps reasoning_effort to a thinkingBudget for Gemini 2.x models, the
// budgets LiteLLM uses for low, medium and high.
var thinkingBudgets = map[string]int{"none": 0, "minimal": 128, "low": 1024, "medium": 2048, "high": 4096,
	"xhigh": 8192, "max": 24576}

// thinking maps reasoning_effort: Gemini 3 models take a thinkingLevel, older ones a
// thinkingBudget. An unknown effort is left to the model's default.
func thinking(effort, model string) *thinkingConfig {
	if effort == "" {
		return nil
	}
	if strings.HasPrefix(strings.TrimPrefix(model, "models/"), "gemini-3") {
		switch effort {
		case "none", "minimal":
			return &thinkingConfig{ThinkingLevel: "MINIMAL"}
		case "low":
			return &thinkingConfig{ThinkingLevel: "LOW"}
		case "medium":
			return &thinkingConfig{ThinkingLevel: "MEDIUM"}
		case "high", "xhigh", "max":
			return &thinkingConfig{ThinkingLevel: "HIGH"}
		}
		return nil
	}
	if b, ok := thinkingBudgets[effort]; ok {
		return &thinkingConfig{ThinkingBudget: &b}
	}
	return nil
}
