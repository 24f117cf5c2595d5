package fakellm

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// geminiRequest is a GenerateContentRequest. Every field Google accepts is declared, so
// that strict decoding rejects only what Google rejects.
type geminiRequest struct {
	Contents          []geminiContent   `json:"contents"`
	SystemInstruction *geminiContent    `json:"systemInstruction"`
	Tools             []geminiTool      `json:"tools"`
	ToolConfig        *geminiToolConfig `json:"toolConfig"`
	SafetySettings    []struct {
		Category  string `json:"category"`
		Threshold string `json:"threshold"`
		Method    string `json:"method"`
	} `json:"safetySettings"`
	GenerationConfig *geminiConfig     `json:"generationConfig"`
	CachedContent    string            `json:"cachedContent"`
	Labels           map[string]string `json:"labels"`
	ServiceTier      string            `json:"serviceTier"`
	Model            string            `json:"model"`
	Fakellm          json.RawMessage   `json:"fakellm"`
}

type geminiContent struct {
	Role  string       `json:"role,omitempty"`
	Parts []geminiPart `json:"parts,omitempty"`
}

type geminiPart struct {
	Text             *string `json:"text,omitempty"`
	Thought          bool    `json:"thought,omitempty"`
	ThoughtSignature string  `json:"thoughtSignature,omitempty"`
	InlineData       *struct {
		MimeType string `json:"mimeType"`
		Data     string `json:"data"`
	} `json:"inlineData,omitempty"`
	FileData *struct {
		MimeType    string `json:"mimeType"`
		FileURI     string `json:"fileUri"`
		DisplayName string `json:"displayName"`
	} `json:"fileData,omitempty"`
	FunctionCall     *geminiFunctionCall `json:"functionCall,omitempty"`
	FunctionResponse *struct {
		ID           string            `json:"id"`
		Name         string            `json:"name"`
		Response     json.RawMessage   `json:"response"`
		Parts        []json.RawMessage `json:"parts"`
		WillContinue *bool             `json:"willContinue"`
		Scheduling   string            `json:"scheduling"`
	} `json:"functionResponse,omitempty"`
	ExecutableCode      json.RawMessage `json:"executableCode,omitempty"`
	CodeExecutionResult json.RawMessage `json:"codeExecutionResult,omitempty"`
	VideoMetadata       json.RawMessage `json:"videoMetadata,omitempty"`
	MediaResolution     json.RawMessage `json:"mediaResolution,omitempty"`
}

type geminiFunctionCall struct {
	ID   string          `json:"id,omitempty"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

type geminiTool struct {
	FunctionDeclarations  []geminiFunctionDecl `json:"functionDeclarations"`
	GoogleSearch          json.RawMessage      `json:"googleSearch"`
	GoogleSearchRetrieval json.RawMessage      `json:"googleSearchRetrieval"`
	CodeExecution         json.RawMessage      `json:"codeExecution"`
	URLContext            json.RawMessage      `json:"urlContext"`
}

type geminiFunctionDecl struct {
	Name                 string          `json:"name"`
	Description          string          `json:"description"`
	Parameters           json.RawMessage `json:"parameters"`
	ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema"`
	Response             json.RawMessage `json:"response"`
	ResponseJSONSchema   json.RawMessage `json:"responseJsonSchema"`
	Behavior             string          `json:"behavior"`
}

type geminiToolConfig struct {
	FunctionCallingConfig *struct {
		Mode                 string   `json:"mode"`
		AllowedFunctionNames []string `json:"allowedFunctionNames"`
	} `json:"functionCallingConfig"`
}

type geminiConfig struct {
	Temperature        *float64        `json:"temperature"`
	TopP               *float64        `json:"topP"`
	TopK               *float64        `json:"topK"`
	CandidateCount     *int            `json:"candidateCount"`
	MaxOutputTokens    *int            `json:"maxOutputTokens"`
	StopSequences      []string        `json:"stopSequences"`
	PresencePenalty    *float64        `json:"presencePenalty"`
	FrequencyPenalty   *float64        `json:"frequencyPenalty"`
	Seed               *int64          `json:"seed"`
	ResponseMimeType   string          `json:"responseMimeType"`
	ResponseSchema     json.RawMessage `json:"responseSchema"`
	ResponseJSONSchema json.RawMessage `json:"responseJsonSchema"`
	ResponseModalities []string        `json:"responseModalities"`
	ResponseLogprobs   *bool           `json:"responseLogprobs"`
	Logprobs           *int            `json:"logprobs"`
	MediaResolution    string          `json:"mediaResolution"`
	SpeechConfig       json.RawMessage `json:"speechConfig"`
	ImageConfig        json.RawMessage `json:"imageConfig"`
	ThinkingConfig     *struct {
		ThinkingBudget  *int   `json:"thinkingBudget"`
		IncludeThoughts *bool  `json:"includeThoughts"`
		ThinkingLevel   string `json:"thinkingLevel"`
	} `json:"thinkingConfig"`
}

// openAPIKeywords are the fields of Google's OpenAPI-subset Schema, which the
// "parameters" and "responseSchema" fields take; any other key is an unknown field.
var openAPIKeywords = map[string]bool{
	"type": true, "format": true, "title": true, "description": true, "nullable": true, "enum": true,
	"maxItems": true, "minItems": true, "properties": true, "required": true, "minProperties": true,
	"maxProperties": true, "minLength": true, "maxLength": true, "pattern": true, "example": true,
	"anyOf": true, "propertyOrdering": true, "default": true, "items": true, "minimum": true, "maximum": true,
}

// openAPIUnknown returns the first key of an OpenAPI-subset schema Google does not know,
// and where it is, or "" when there is none.
func openAPIUnknown(raw json.RawMessage, at string) (string, string) {
	var s map[string]json.RawMessage
	if json.Unmarshal(raw, &s) != nil {
		return "", ""
	}
	for k, v := range s {
		if !openAPIKeywords[k] {
			return k, at
		}
		switch k {
		case "properties":
			var props map[string]json.RawMessage
			_ = json.Unmarshal(v, &props)
			for name, sub := range props {
				if bad, where := openAPIUnknown(sub, at+".properties["+name+"].value"); bad != "" {
					return bad, where
				}
			}
		case "items":
			if bad, where := openAPIUnknown(v, at+".items"); bad != "" {
				return bad, where
			}
		}
	}
	return "", ""
}

var geminiFunctionName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$`)

// validate returns Google's 400 message for a request it would reject, or "".
func (req *geminiRequest) validate(model string) string {
	if len(req.Contents) == 0 {
		return "* GenerateContentRequest.contents: contents is not specified\n"
	}
	for i, ct := range req.Contents {
		if msg := validateContent(ct, fmt.Sprintf("contents[%d]", i)); msg != "" {
			return msg
		}
	}
	if msg := req.validateTurns(model); msg != "" {
		return msg
	}
	if msg := req.validateTools(); msg != "" {
		return msg
	}
	return req.GenerationConfig.validate()
}

func validateContent(ct geminiContent, at string) string {
	if ct.Role != "" && ct.Role != "user" && ct.Role != "model" {
		return "Please use a valid role: user, model."
	}
	if len(ct.Parts) == 0 {
		return "* GenerateContentRequest." + at + ".parts: contents.parts must not be empty.\n"
	}
	for j, p := range ct.Parts {
		if msg := validatePart(p, fmt.Sprintf("%s.parts[%d]", at, j)); msg != "" {
			return msg
		}
	}
	return ""
}

func validatePart(p geminiPart, at string) string {
	set := 0
	for _, present := range []bool{p.Text != nil, p.InlineData != nil, p.FileData != nil, p.FunctionCall != nil,
		p.FunctionResponse != nil, len(p.ExecutableCode) > 0, len(p.CodeExecutionResult) > 0} {
		if present {
			set++
		}
	}
	switch {
	case set != 1:
		return "* GenerateContentRequest." + at + ".data: required oneof field 'data' must have one initialized field\n"
	case p.Text != nil && *p.Text == "":
		return "Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again."
	case p.InlineData != nil:
		if _, err := base64.StdEncoding.DecodeString(p.InlineData.Data); err != nil || p.InlineData.MimeType == "" {
			return "Invalid value at '" + at + ".inline_data' (TYPE_BYTES), Base64 decoding failed or mime_type is missing"
		}
	case p.FileData != nil && p.FileData.FileURI == "":
		return "* GenerateContentRequest." + at + ".file_data.file_uri: file_uri must not be empty\n"
	case p.FunctionCall != nil && p.FunctionCall.Name == "":
		return "* GenerateContentRequest." + at + ".function_call.name: Name cannot be empty.\n"
	case p.FunctionResponse != nil && p.FunctionResponse.Name == "":
		return "* GenerateContentRequest." + at + ".function_response.name: Name cannot be empty.\n"
	}
	return ""
}

// validateTurns checks function calling across turns: each model turn's calls are
// answered by as many function responses in the next turn, and on Gemini 3 the first
// call of a turn carries a thought signature.
func (req *geminiRequest) validateTurns(model string) string {
	for i, ct := range req.Contents {
		calls, signed := 0, false
		for _, p := range ct.Parts {
			if p.FunctionCall != nil {
				if calls == 0 {
					signed = p.ThoughtSignature != ""
				}
				calls++
			}
		}
		if calls == 0 {
			continue
		}
		if strings.HasPrefix(model, "gemini-3") && !signed {
			return fmt.Sprintf("Function call is missing a thought_signature in functionCall parts. This is required for tools "+
				"to work correctly. Additional data, function call `default_api:%s`, position %d. Please refer to "+
				"https://ai.google.dev/gemini-api/docs/thought-signatures for more details.", firstCall(ct), i+1)
		}
		if i+1 < len(req.Contents) && countResponses(req.Contents[i+1]) != calls {
			return "Please ensure that the number of function response parts is equal to the number of function call " +
				"parts of the function call turn."
		}
	}
	return ""
}

func firstCall(ct geminiContent) string {
	for _, p := range ct.Parts {
		if p.FunctionCall != nil {
			return p.FunctionCall.Name
		}
	}
	return ""
}

func countResponses(ct geminiContent) int {
	n := 0
	for _, p := range ct.Parts {
		if p.FunctionResponse != nil {
			n++
		}
	}
	return n
}

func (req *geminiRequest) validateTools() string {
	for i, t := range req.Tools {
		for j, d := range t.FunctionDeclarations {
			at := fmt.Sprintf("tools[%d].function_declarations[%d]", i, j)
			switch {
			case !geminiFunctionName.MatchString(d.Name):
				return "* GenerateContentRequest." + at + ".name: Invalid function name. Must start with a letter or an " +
					"underscore. Must be a-z, A-Z, 0-9, or contain underscores, dots, colons and dashes, with a maximum length of 64.\n"
			case len(d.Parameters) > 0 && len(d.ParametersJSONSchema) > 0:
				return "* GenerateContentRequest." + at + ": parameters and parameters_json_schema are mutually exclusive.\n"
			}
			if bad, where := openAPIUnknown(d.Parameters, at+".parameters"); bad != "" {
				return fmt.Sprintf("Invalid JSON payload received. Unknown name %q at '%s': Cannot find field.", bad, where)
			}
		}
	}
	if tc := req.ToolConfig; tc != nil && tc.FunctionCallingConfig != nil {
		fc := tc.FunctionCallingConfig
		switch fc.Mode {
		case "", "MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED":
		default:
			return fmt.Sprintf("Invalid value at 'tool_config.function_calling_config.mode' (type.googleapis.com/"+
				"google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), %q", fc.Mode)
		}
		if len(fc.AllowedFunctionNames) > 0 && fc.Mode != "ANY" && fc.Mode != "VALIDATED" {
			return "* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: " +
				"allowed_function_names may only be set when mode is ANY.\n"
		}
	}
	return ""
}

func (gc *geminiConfig) validate() string {
	if gc == nil {
		return ""
	}
	const at = "* GenerateContentRequest.generation_config."
	switch {
	case len(gc.ResponseSchema) > 0 && len(gc.ResponseJSONSchema) > 0:
		return at + "response_schema: response_schema and response_json_schema are mutually exclusive.\n"
	case (len(gc.ResponseSchema) > 0 || len(gc.ResponseJSONSchema) > 0) && gc.ResponseMimeType != "application/json":
		return at + "response_mime_type: must be application/json when a response schema is set.\n"
	case len(gc.StopSequences) > 5:
		return at + "stop_sequences: at most 5 stop sequences are allowed.\n"
	case gc.CandidateCount != nil && (*gc.CandidateCount < 1 || *gc.CandidateCount > 8):
		return at + "candidate_count: must be between 1 and 8.\n"
	case gc.MaxOutputTokens != nil && *gc.MaxOutputTokens < 0:
		return at + "max_output_tokens: must be positive.\n"
	}
	if bad, where := openAPIUnknown(gc.ResponseSchema, "generation_config.response_schema"); bad != "" {
		return fmt.Sprintf("Invalid JSON payload received. Unknown name %q at '%s': Cannot find field.", bad, where)
	}
	return ""
}
