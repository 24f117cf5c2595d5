package fakellm

import (
	"encoding/json"
	"slices"
	"strings"
)

// checkVersion answers 400, as Anthropic does, when anthropic-version is missing or
// unknown.
func checkVersion(c *call) bool {
	v := c.r.Header.Get("Anthropic-Version")
	switch {
	case v == "":
		c.fail(anthropicBadRequest("anthropic-version: header is required"))
		return false
	case !slices.Contains(anthropicVersions, v):
		c.fail(anthropicBadRequest("anthropic-version: invalid version " + v))
		return false
	}
	return true
}

// messagesAnswer is what the fake says to one Messages request.
type messagesAnswer struct {
	id, model string
	tool      *toolCall
	plan      textPlan
	thinking  string // shown thinking text, when the reasoning knob is set
	tokens    tokens
	stop      string // stop_reason
}

func handleMessages(c *call) {
	if !checkVersion(c) {
		return
	}
	req, ok := decodeMessages(c)
	if !ok {
		return
	}
	if e := req.validate(c); e != nil {
		c.fail(e)
		return
	}
	a := &messagesAnswer{id: c.s.newID("msg_01", 22), model: *req.Model, stop: "end_turn"}
	output := 0
	if a.tool = req.pickToolCall(c); a.tool != nil {
		a.stop, output = "tool_use", len(a.tool.fragments)
	} else {
		a.plan = planText(c.k.chunks, req.MaxTokens, req.format(), req.StopSequences)
		output = len(a.plan.pieces)
		switch a.plan.cut {
		case cutLength:
			a.stop = "max_tokens"
		case cutStop:
			a.stop = "stop_sequence"
		}
	}
	a.tokens = c.usageTokens(req.promptTokens(), output)
	if a.tokens.reasoning > 0 {
		a.thinking = Text(min(a.tokens.reasoning, 6))
	}
	c.charge(a.tokens.prompt() + a.tokens.completion())
	if req.Stream {
		c.stream(messagesEvents(a), anthropicErrorEvent(c))
		return
	}
	c.respond(messagesResponse(a), c.generationTime(max(output, 1)))
}

// format is structured output (output_config.format), or JSON when the system prompt
// asks for it: Anthropic has no JSON-object mode, and a model follows the instruction.
func (req *messagesRequest) format() format {
	if oc := req.OutputConfig; oc != nil && oc.Format != nil {
		return format{json: true, schema: oc.Format.Schema}
	}
	sys, _ := req.systemText()
	return format{json: strings.Contains(sys, "JSON")}
}

// pickToolCall decides whether the answer calls a tool, as the OpenAI dialect does:
// tool_choice any or tool forces a call, none forbids it, and auto calls when the last
// user turn says "call tool" and is not a turn of tool results.
func (req *messagesRequest) pickToolCall(c *call) *toolCall {
	if len(req.Tools) == 0 || (req.ToolChoice != nil && req.ToolChoice.Type == "none") {
		return nil
	}
	names := make([]string, len(req.Tools))
	for i, t := range req.Tools {
		names[i] = t.Name
	}
	forced, required := "", false
	if tc := req.ToolChoice; tc != nil {
		forced, required = tc.Name, tc.Type == "any"
	}
	name, ok := pickTool(names, forced, required, req.lastUserText())
	if !ok {
		return nil
	}
	i := slices.Index(names, name)
	var schema json.RawMessage
	if i >= 0 {
		schema = req.Tools[i].InputSchema
	}
	args := toolArguments(schema)
	return &toolCall{id: c.s.newID("toolu_01", 22), name: name, arguments: args, fragments: splitArgs(args, c.k.chunks)}
}

// lastUserText is the text of the last user turn, "" when it carries tool results.
func (req *messagesRequest) lastUserText() string {
	for i := len(req.Messages) - 1; i >= 0; i-- {
		m := req.Messages[i]
		if m.Role != "user" {
			continue
		}
		var parts []string
		for _, b := range m.Content {
			if b.Type == "tool_result" {
				return ""
			}
			parts = append(parts, b.text())
		}
		return strings.Join(parts, " ")
	}
	return ""
}

func handleCountTokens(c *call) {
	if !checkVersion(c) {
		return
	}
	req, ok := decodeMessages(c)
	if !ok {
		return
	}
	if req.Model == nil || len(req.Messages) == 0 {
		c.fail(anthropicBadRequest("model and messages are required"))
		return
	}
	if e := req.validateMessages(); e != nil {
		c.fail(e)
		return
	}
	c.respond(map[string]int{"input_tokens": req.promptTokens()}, 0)
}

// anthropicUsage is the usage object of a message and of message_delta.
type anthropicUsage struct {
	InputTokens              int    `json:"input_tokens"`
	CacheCreationInputTokens int    `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int    `json:"cache_read_input_tokens"`
	OutputTokens             int    `json:"output_tokens"`
	ServiceTier              string `json:"service_tier,omitempty"`
	OutputTokensDetails      *struct {
		ThinkingTokens int `json:"thinking_tokens"`
	} `json:"output_tokens_details,omitempty"`
}

// usage renders t; output is the output count to report (the whole answer's, or the
// initial count of message_start).
func (t tokens) anthropicUsage(output int, tier string) anthropicUsage {
	u := anthropicUsage{InputTokens: t.input, CacheCreationInputTokens: t.cacheWrite,
		CacheReadInputTokens: t.cacheRead, OutputTokens: output, ServiceTier: tier}
	if t.reasoning > 0 && output == t.completion() {
		u.OutputTokensDetails = &struct {
			ThinkingTokens int `json:"thinking_tokens"`
		}{t.reasoning}
	}
	return u
}

type anthropicResponse struct {
	ID           string           `json:"id"`
	Type         string           `json:"type"`
	Role         string           `json:"role"`
	Model        string           `json:"model"`
	Content      []map[string]any `json:"content"`
	StopReason   *string          `json:"stop_reason"`
	StopSequence *string          `json:"stop_sequence"`
	Usage        anthropicUsage   `json:"usage"`
}

// blocks are the answer's content blocks: thinking, then the tool call or the text.
func (a *messagesAnswer) blocks() []map[string]any {
	var out []map[string]any
	if a.thinking != "" {
		out = append(out, map[string]any{"type": "thinking", "thinking": a.thinking, "signature": fakeSignature})
	}
	if a.tool != nil {
		return append(out, map[string]any{"type": "tool_use", "id": a.tool.id, "name": a.tool.name,
			"input": json.RawMessage(a.tool.arguments)})
	}
	return append(out, map[string]any{"type": "text", "text": strings.Join(a.plan.pieces, "")})
}

const fakeSignature = "ZmFrZWxsbS1zaWduYXR1cmU="

func messagesResponse(a *messagesAnswer) anthropicResponse {
	r := anthropicResponse{ID: a.id, Type: "message", Role: "assistant", Model: a.model, Content: a.blocks(),
		StopReason: &a.stop, Usage: a.tokens.anthropicUsage(a.tokens.completion(), "standard")}
	if a.plan.stop != "" {
		r.StopSequence = &a.plan.stop
	}
	return r
}

func anthropicErrorEvent(c *call) sseEvent {
	body := newAnthropicError(c, errInjected(c.k.errorStatus))
	body.RequestID = ""
	b, _ := json.Marshal(body)
	return sseEvent{name: "error", data: b}
}
