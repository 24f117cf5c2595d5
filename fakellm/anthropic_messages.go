package fakellm

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// messagesRequest is the part of a Messages request the fake reads.
type messagesRequest struct {
	Model         *string            `json:"model"`
	MaxTokens     *int               `json:"max_tokens"`
	Messages      []anthropicMessage `json:"messages"`
	System        json.RawMessage    `json:"system"`
	StopSequences []string           `json:"stop_sequences"`
	Temperature   *float64           `json:"temperature"`
	Stream        bool               `json:"stream"`
	Tools         []struct {
		Name        string          `json:"name"`
		InputSchema json.RawMessage `json:"input_schema"`
	} `json:"tools"`
	ToolChoice *struct {
		Type string `json:"type"`
		Name string `json:"name"`
	} `json:"tool_choice"`
	Thinking *struct {
		Type         string `json:"type"`
		BudgetTokens int    `json:"budget_tokens"`
	} `json:"thinking"`
	OutputConfig *struct {
		Format *struct {
			Type   string          `json:"type"`
			Schema json.RawMessage `json:"schema"`
		} `json:"format"`
	} `json:"output_config"`
}

type anthropicMessage struct {
	Role    string           `json:"role"`
	Content []anthropicBlock `json:"-"`
}

// UnmarshalJSON accepts content as a string (one text block) or an array of blocks.
func (m *anthropicMessage) UnmarshalJSON(b []byte) error {
	var raw struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	m.Role = raw.Role
	var s string
	if json.Unmarshal(raw.Content, &s) == nil {
		m.Content = []anthropicBlock{{Type: "text", Text: &s}}
		return nil
	}
	return json.Unmarshal(raw.Content, &m.Content)
}

type anthropicBlock struct {
	Type   string  `json:"type"`
	Text   *string `json:"text"`
	Source *struct {
		Type      string `json:"type"`
		MediaType string `json:"media_type"`
		Data      string `json:"data"`
		URL       string `json:"url"`
	} `json:"source"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
}

// text returns the words a block adds to the prompt.
func (b anthropicBlock) text() string {
	switch b.Type {
	case "text":
		if b.Text != nil {
			return *b.Text
		}
	case "tool_use":
		return b.Name + " " + string(b.Input)
	case "tool_result":
		var s string
		if json.Unmarshal(b.Content, &s) == nil {
			return s
		}
		var parts []anthropicBlock
		_ = json.Unmarshal(b.Content, &parts)
		var out []string
		for _, p := range parts {
			out = append(out, p.text())
		}
		return strings.Join(out, " ")
	}
	return ""
}

// systemText reads system: a string or an array of text blocks.
func (req *messagesRequest) systemText() (string, bool) {
	if len(req.System) == 0 || string(req.System) == "null" {
		return "", true
	}
	var s string
	if json.Unmarshal(req.System, &s) == nil {
		return s, true
	}
	var blocks []anthropicBlock
	if json.Unmarshal(req.System, &blocks) != nil {
		return "", false
	}
	var out []string
	for _, b := range blocks {
		if b.Type != "text" || b.Text == nil {
			return "", false
		}
		out = append(out, *b.Text)
	}
	return strings.Join(out, "\n"), true
}

// promptTokens counts the words of the system prompt and every block, plus 3 per
// message.
func (req *messagesRequest) promptTokens() int {
	sys, _ := req.systemText()
	n := countWords(sys)
	for _, m := range req.Messages {
		n += 3
		for _, b := range m.Content {
			n += countWords(b.text())
		}
	}
	return n
}

var imageMediaTypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp"}

// validate answers what the Messages API would refuse, in its words; nil means valid.
func (req *messagesRequest) validate(c *call) *apiError {
	switch {
	case req.Model == nil:
		return anthropicBadRequest("model: Field required")
	case req.MaxTokens == nil:
		return anthropicBadRequest("max_tokens: Field required")
	case *req.MaxTokens < 1:
		return anthropicBadRequest("max_tokens: Input should be greater than or equal to 1")
	case req.Messages == nil:
		return anthropicBadRequest("messages: Field required")
	case len(req.Messages) == 0:
		return anthropicBadRequest("messages: at least one message is required")
	case req.Temperature != nil && (*req.Temperature < 0 || *req.Temperature > 1):
		return anthropicBadRequest("temperature: range: 0..1")
	}
	if !c.s.servesModel(*req.Model) {
		return &apiError{Status: http.StatusNotFound, Message: "model: " + *req.Model}
	}
	if _, ok := req.systemText(); !ok {
		return anthropicBadRequest("system: Input should be a valid string or a list of text blocks")
	}
	for _, s := range req.StopSequences {
		if strings.TrimSpace(s) == "" {
			return anthropicBadRequest("stop_sequences: each stop sequence must contain non-whitespace")
		}
	}
	if t := req.Thinking; t != nil && t.Type == "enabled" && (t.BudgetTokens < 1024 || t.BudgetTokens >= *req.MaxTokens) {
		return anthropicBadRequest("thinking.budget_tokens: must be at least 1024 and less than max_tokens")
	}
	if f := req.OutputConfig; f != nil && f.Format != nil && (f.Format.Type != "json_schema" || len(f.Format.Schema) == 0) {
		return anthropicBadRequest("output_config.format: a json_schema format needs a schema")
	}
	return req.validateMessages()
}

// validateMessages checks roles, blocks and the pairing of tool_use and tool_result.
// Consecutive turns of one role are allowed: the API combines them.
func (req *messagesRequest) validateMessages() *apiError {
	if req.Messages[0].Role != "user" {
		return anthropicBadRequest(`messages: first message must use the "user" role`)
	}
	var pending []string // tool_use ids of the previous assistant turn
	for i, m := range req.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return anthropicBadRequest(fmt.Sprintf("messages: Unexpected role %q. The Messages API accepts a top-level "+
				"`system` parameter, not \"system\" as an input message role.", m.Role))
		}
		if len(m.Content) == 0 {
			return anthropicBadRequest(fmt.Sprintf("messages.%d: all messages must have non-empty content", i))
		}
		var uses []string
		for j, b := range m.Content {
			if e := validateBlock(i, j, m.Role, b, pending); e != nil {
				return e
			}
			if b.Type == "tool_use" {
				uses = append(uses, b.ID)
			}
		}
		if m.Role == "user" && len(pending) > 0 && !answersAll(m.Content, pending) {
			return anthropicBadRequest(fmt.Sprintf("messages.%d: `tool_use` ids were found without `tool_result` "+
				"blocks immediately after: %s", i-1, strings.Join(pending, ", ")))
		}
		pending = uses
	}
	return nil
}

func answersAll(blocks []anthropicBlock, ids []string) bool {
	for _, id := range ids {
		if !slices.ContainsFunc(blocks, func(b anthropicBlock) bool { return b.Type == "tool_result" && b.ToolUseID == id }) {
			return false
		}
	}
	return true
}

func validateBlock(i, j int, role string, b anthropicBlock, pending []string) *apiError {
	at := fmt.Sprintf("messages.%d.content.%d", i, j)
	switch b.Type {
	case "text":
		if b.Text == nil || *b.Text == "" {
			return anthropicBadRequest("messages: text content blocks must be non-empty")
		}
	case "image":
		return validateImage(at, role, b)
	case "tool_use":
		var obj map[string]any
		if role != "assistant" || b.ID == "" || b.Name == "" || json.Unmarshal(b.Input, &obj) != nil || obj == nil {
			return anthropicBadRequest(at + ".tool_use: needs an assistant turn, an id, a name and an object input")
		}
	case "tool_result":
		if role != "user" || !slices.Contains(pending, b.ToolUseID) {
			return anthropicBadRequest(fmt.Sprintf("%s: unexpected `tool_use_id` found in `tool_result` blocks: %s. "+
				"Each `tool_result` block must have a corresponding `tool_use` block in the previous message.", at, b.ToolUseID))
		}
	default:
		return anthropicBadRequest(fmt.Sprintf("%s.type: Input tag '%s' found using 'type' does not match any of the expected tags", at, b.Type))
	}
	return nil
}

func validateImage(at, role string, b anthropicBlock) *apiError {
	src := b.Source
	switch {
	case role != "user" || src == nil:
		return anthropicBadRequest(at + ".image: an image needs a source in a user turn")
	case src.Type == "url":
		if !strings.HasPrefix(src.URL, "https://") && !strings.HasPrefix(src.URL, "http://") {
			return anthropicBadRequest(at + ".image.source.url: must be an http or https URL")
		}
	case src.Type == "base64":
		if !slices.Contains(imageMediaTypes, src.MediaType) {
			return anthropicBadRequest(fmt.Sprintf("%s.image.source.base64.media_type: Input should be %s",
				at, strings.Join(imageMediaTypes, ", ")))
		}
		if _, err := base64.StdEncoding.DecodeString(src.Data); err != nil || src.Data == "" {
			return anthropicBadRequest(at + ".image.source.base64.data: The image data is not valid base64")
		}
	default:
		return anthropicBadRequest(at + ".image.source.type: must be base64 or url")
	}
	return nil
}

// messagesFields are the top-level fields of a Messages request; the API refuses any
// other, which catches OpenAI fields a translation forgot to drop. "fakellm" holds the
// fake's own knobs.
var messagesFields = []string{"model", "max_tokens", "messages", "system", "stop_sequences", "temperature", "top_p",
	"top_k", "stream", "tools", "tool_choice", "thinking", "metadata", "service_tier", "output_config", "cache_control",
	"container", "inference_geo", "mcp_servers", "context_management", "fakellm"}

// decodeMessages decodes a Messages body, answering 400 in Anthropic's words when it
// is not JSON or has the wrong types.
func decodeMessages(c *call) (*messagesRequest, bool) {
	var req messagesRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		var typeErr *json.UnmarshalTypeError
		msg := "There was an issue with your request body: the body is not valid JSON"
		if errors.As(err, &typeErr) {
			msg = fmt.Sprintf("%s: Input should be a valid %s", typeErr.Field, typeErr.Type)
		}
		c.fail(anthropicBadRequest(msg))
		return nil, false
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(c.body, &fields) != nil {
		c.fail(anthropicBadRequest("There was an issue with your request body: the body must be a JSON object"))
		return nil, false
	}
	for name := range fields {
		if !slices.Contains(messagesFields, name) {
			c.fail(anthropicBadRequest(name + ": Extra inputs are not permitted"))
			return nil, false
		}
	}
	return &req, true
}
