package anthropic

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

// jsonInstruction is added to the system prompt for response_format json_object:
// Anthropic has no mode that constrains output to any JSON object (its structured
// outputs need a schema), so the model is told instead, as every gateway does.
const jsonInstruction = "Respond with a single valid JSON object only, with no text before or after it."

// thinkingBudgets maps reasoning_effort to extended-thinking budgets; Anthropic's
// minimum budget is 1024 tokens.
var thinkingBudgets = map[string]int64{"low": 1024, "medium": 2048, "high": 4096}

const minThinkingBudget = 1024

// buildRequest translates an OpenAI chat request into a Messages request for model.
func buildRequest(req *schema.ChatRequest, model string, stream bool) (*messagesRequest, error) {
	if req.N != nil && *req.N > 1 {
		return nil, apierr.InvalidValue("n", "Anthropic models return one choice; n must be 1")
	}
	if req.Logprobs != nil && *req.Logprobs {
		return nil, apierr.InvalidValue("logprobs", "Anthropic models do not return log probabilities")
	}
	out := &messagesRequest{Model: model, Stream: stream, TopP: req.TopP, Temperature: req.Temperature}
	if t := out.Temperature; t != nil && *t > 1 {
		// OpenAI's range is 0..2, Anthropic's 0..1: the hottest setting maps to the hottest.
		one := 1.0
		out.Temperature = &one
	}
	system, err := convertMessages(req.Messages, out)
	if err != nil {
		return nil, err
	}
	trimPrefill(out.Messages)
	out.MaxTokens = req.OutputCap()
	if out.MaxTokens <= 0 {
		out.MaxTokens = MaxOutputTokens(model)
	}
	for _, s := range req.Stop {
		if strings.TrimSpace(s) != "" { // Anthropic rejects whitespace-only stop sequences
			out.StopSequences = append(out.StopSequences, s)
		}
	}
	if err := convertTools(req, out); err != nil {
		return nil, err
	}
	if system, err = convertFormat(req.ResponseFormat, system, out); err != nil {
		return nil, err
	}
	out.System = system
	if req.User != "" {
		out.Metadata = &metadata{UserID: req.User}
	}
	out.Thinking = thinking(req.ReasoningEffort, out.MaxTokens)
	return out, nil
}

// trimPrefill trims the trailing whitespace of a final assistant turn (a prefill the
// answer continues), which Anthropic refuses.
func trimPrefill(msgs []message) {
	if len(msgs) == 0 || msgs[len(msgs)-1].Role != "assistant" {
		return
	}
	blocks := msgs[len(msgs)-1].Content
	if b := &blocks[len(blocks)-1]; b.Type == "text" && b.Text != nil {
		t := strings.TrimRightFunc(*b.Text, unicode.IsSpace)
		b.Text = &t
	}
}

// thinking enables extended thinking for a reasoning effort. The budget counts against
// max_tokens, as reasoning counts against OpenAI's max_completion_tokens, and Anthropic
// needs it below max_tokens: a limit too small for the minimum budget disables thinking.
func thinking(effort string, maxTokens int64) *thinkingConfig {
	budget, ok := thinkingBudgets[effort]
	if !ok {
		return nil
	}
	budget = min(budget, maxTokens-1)
	if budget < minThinkingBudget {
		return nil
	}
	return &thinkingConfig{Type: "enabled", BudgetTokens: budget}
}

// convertMessages fills out.Messages and returns the joined system prompt. System and
// developer messages move to the top level; tool results become tool_result blocks of
// a user message; consecutive messages of one role merge, as Anthropic needs the roles
// to alternate.
func convertMessages(msgs []schema.Message, out *messagesRequest) (string, error) {
	var system []string
	for i := range msgs {
		m := &msgs[i]
		var blocks []block
		role := m.Role
		var err error
		switch m.Role {
		case "system", "developer":
			parts, perr := m.Parts()
			if perr != nil {
				return "", badContent(i, perr)
			}
			for _, p := range parts {
				if p.Type == "text" && p.Text != "" {
					system = append(system, p.Text)
				}
			}
			continue
		case "user":
			blocks, err = userBlocks(i, m)
		case "assistant":
			blocks, err = assistantBlocks(i, m)
		case "tool":
			role = "user"
			blocks, err = toolResult(i, m)
		default:
			return "", apierr.InvalidValue(fmt.Sprintf("messages[%d].role", i),
				fmt.Sprintf("role %q cannot be sent to an Anthropic model", m.Role))
		}
		if err != nil {
			return "", err
		}
		if len(blocks) > 0 {
			appendMessage(out, role, blocks)
		}
	}
	return strings.Join(system, "\n\n"), nil
}

// appendMessage adds blocks as a message of role, merging with the previous message of
// the same role. In a user message tool results come first, as Anthropic requires.
func appendMessage(out *messagesRequest, role string, blocks []block) {
	n := len(out.Messages)
	if n == 0 || out.Messages[n-1].Role != role {
		out.Messages = append(out.Messages, message{Role: role, Content: blocks})
		return
	}
	prev := &out.Messages[n-1]
	if role == "user" && blocks[0].Type == "tool_result" {
		merged := make([]block, 0, len(prev.Content)+len(blocks))
		for _, b := range prev.Content {
			if b.Type == "tool_result" {
				merged = append(merged, b)
			}
		}
		merged = append(merged, blocks...)
		for _, b := range prev.Content {
			if b.Type != "tool_result" {
				merged = append(merged, b)
			}
		}
		prev.Content = merged
		return
	}
	prev.Content = append(prev.Content, blocks...)
}

func badContent(i int, err error) error {
	return apierr.InvalidValue(fmt.Sprintf("messages[%d].content", i),
		"content must be a string or an array of content parts").WithCause(err)
}

func textBlock(s string) block { return block{Type: "text", Text: &s} }

func userBlocks(i int, m *schema.Message) ([]block, error) {
	parts, err := m.Parts()
	if err != nil {
		return nil, badContent(i, err)
	}
	blocks := make([]block, 0, len(parts))
	for j, p := range parts {
		switch p.Type {
		case "text":
			if p.Text != "" { // Anthropic rejects empty text blocks
				blocks = append(blocks, textBlock(p.Text))
			}
		case "image_url":
			b, err := imageBlock(p.ImageURL)
			if err != nil {
				return nil, apierr.InvalidValue(fmt.Sprintf("messages[%d].content[%d].image_url", i, j), err.Error())
			}
			blocks = append(blocks, b)
		default:
			return nil, apierr.InvalidValue(fmt.Sprintf("messages[%d].content[%d].type", i, j),
				fmt.Sprintf("content parts of type %q cannot be sent to an Anthropic model", p.Type))
		}
	}
	return blocks, nil
}

// imageBlock translates an image part: a base64 data: URL becomes a base64 source, an
// http(s) URL a url source that Anthropic fetches itself.
func imageBlock(img *schema.ImageURL) (block, error) {
	if img == nil || img.URL == "" {
		return block{}, fmt.Errorf("an image part needs image_url.url")
	}
	u := img.URL
	if rest, ok := strings.CutPrefix(u, "data:"); ok {
		meta, data, ok := strings.Cut(rest, ",")
		mediaType, isBase64 := strings.CutSuffix(meta, ";base64")
		if !ok || !isBase64 || mediaType == "" || data == "" {
			return block{}, fmt.Errorf("a data: URL image must be data:<media type>;base64,<data>")
		}
		return block{Type: "image", Source: &imageSource{Type: "base64", MediaType: mediaType, Data: data}}, nil
	}
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return block{Type: "image", Source: &imageSource{Type: "url", URL: u}}, nil
	}
	return block{}, fmt.Errorf("an image URL must be https:// or a base64 data: URL")
}

func assistantBlocks(i int, m *schema.Message) ([]block, error) {
	parts, err := m.Parts()
	if err != nil {
		return nil, badContent(i, err)
	}
	var blocks []block
	for _, p := range parts {
		if p.Type == "text" && strings.TrimSpace(p.Text) != "" {
			blocks = append(blocks, textBlock(p.Text))
		}
	}
	for j, tc := range m.ToolCalls {
		input := json.RawMessage(strings.TrimSpace(tc.Function.Arguments))
		if len(input) == 0 {
			input = json.RawMessage("{}")
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(input, &obj) != nil || obj == nil {
			return nil, apierr.InvalidValue(fmt.Sprintf("messages[%d].tool_calls[%d].function.arguments", i, j),
				"tool call arguments must be a JSON object")
		}
		blocks = append(blocks, block{Type: "tool_use", ID: tc.ID, Name: tc.Function.Name, Input: input})
	}
	return blocks, nil
}

// toolResult translates a tool message; its text parts join into the result's content.
func toolResult(i int, m *schema.Message) ([]block, error) {
	if m.ToolCallID == "" {
		return nil, apierr.MissingField(fmt.Sprintf("messages[%d].tool_call_id", i))
	}
	parts, err := m.Parts()
	if err != nil {
		return nil, badContent(i, err)
	}
	var text strings.Builder
	for _, p := range parts {
		if p.Type == "text" {
			text.WriteString(p.Text)
		}
	}
	content, _ := json.Marshal(text.String())
	return []block{{Type: "tool_result", ToolUseID: m.ToolCallID, Content: content}}, nil
}
