package fakellm

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// converseRequest is the part of a Converse request the fake reads.
type converseRequest struct {
	System          []struct{ Text *string } `json:"system"`
	Messages        []converseMessage        `json:"messages"`
	InferenceConfig *struct {
		MaxTokens     *int     `json:"maxTokens"`
		StopSequences []string `json:"stopSequences"`
	} `json:"inferenceConfig"`
	ToolConfig *struct {
		Tools []struct {
			ToolSpec struct {
				Name        string `json:"name"`
				InputSchema struct {
					JSON json.RawMessage `json:"json"`
				} `json:"inputSchema"`
			} `json:"toolSpec"`
		} `json:"tools"`
		ToolChoice *struct {
			Auto *struct{} `json:"auto"`
			Any  *struct{} `json:"any"`
			Tool *struct {
				Name string `json:"name"`
			} `json:"tool"`
		} `json:"toolChoice"`
	} `json:"toolConfig"`
}

type converseMessage struct {
	Role    string          `json:"role"`
	Content []converseBlock `json:"content"`
}

// converseBlock is a ContentBlock; output blocks set only Text or ToolUse.
type converseBlock struct {
	Text       *string          `json:"text,omitempty"`
	Image      *json.RawMessage `json:"image,omitempty"`
	ToolUse    *converseToolUse `json:"toolUse,omitempty"`
	ToolResult *struct {
		ToolUseID string `json:"toolUseId"`
		Content   []struct {
			Text *string         `json:"text"`
			JSON json.RawMessage `json:"json"`
		} `json:"content"`
	} `json:"toolResult,omitempty"`
}

type converseToolUse struct {
	ToolUseID string          `json:"toolUseId"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
}

// converseUsage is Converse's TokenUsage: inputTokens leaves out cache reads and
// writes, outputTokens includes reasoning (Bedrock does not break it out).
type converseUsage struct {
	InputTokens           int `json:"inputTokens"`
	OutputTokens          int `json:"outputTokens"`
	TotalTokens           int `json:"totalTokens"`
	CacheReadInputTokens  int `json:"cacheReadInputTokens"`
	CacheWriteInputTokens int `json:"cacheWriteInputTokens"`
}

func newConverseUsage(t tokens) converseUsage {
	return converseUsage{InputTokens: t.input, OutputTokens: t.completion(), TotalTokens: t.prompt() + t.completion(),
		CacheReadInputTokens: t.cacheRead, CacheWriteInputTokens: t.cacheWrite}
}

// converseAnswer is what the fake says to one Converse request.
type converseAnswer struct {
	pieces []string
	tool   *toolCall
	stop   string
	usage  converseUsage
}

func (a *converseAnswer) steps() int {
	if a.tool != nil {
		return len(a.tool.fragments)
	}
	return len(a.pieces)
}

func handleConverse(c *call, model string, stream bool) {
	var req converseRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		c.fail(errValidation("Malformed input request, please reformat your input and try again."))
		return
	}
	if msg := req.validate(); msg != "" {
		c.fail(errValidation(msg))
		return
	}
	a := &converseAnswer{stop: "end_turn"}
	if a.tool = req.pickToolCall(c); a.tool != nil {
		a.stop = "tool_use"
	} else {
		var limit *int
		var stops []string
		if ic := req.InferenceConfig; ic != nil {
			limit, stops = ic.MaxTokens, ic.StopSequences
		}
		p := planText(c.k.chunks, limit, format{}, stops)
		a.pieces = p.pieces
		switch p.cut {
		case cutLength:
			a.stop = "max_tokens"
		case cutStop:
			a.stop = "stop_sequence"
		}
	}
	prompt := req.promptTokens()
	a.usage = newConverseUsage(c.usageTokens(prompt, a.steps()))
	c.charge(prompt + a.steps())
	if stream {
		c.w = frameWriter{c.w}
		c.stream(converseEvents(c, a), converseException(c.k.errorStatus))
		return
	}
	c.respond(converseOutput(a, c.generationTime(a.steps())), c.generationTime(a.steps()))
}

// validate returns Bedrock's ValidationException message for a request it rejects, or
// "".
func (req *converseRequest) validate() string {
	if len(req.Messages) == 0 {
		return "A conversation must start with a user message. Try again with a conversation that starts with a user message."
	}
	toolBlocks := false
	for i, m := range req.Messages {
		want := "user"
		if i%2 == 1 {
			want = "assistant"
		}
		switch {
		case i == 0 && m.Role != "user":
			return "A conversation must start with a user message. Try again with a conversation that starts with a user message."
		case m.Role != want:
			return "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again."
		case len(m.Content) == 0:
			return fmt.Sprintf("The content field in the Message object at messages.%d is empty. Add a ContentBlock object to the content field and try again.", i)
		}
		for j, b := range m.Content {
			if b.Text != nil && strings.TrimSpace(*b.Text) == "" {
				return fmt.Sprintf("The text field in the ContentBlock object at messages.%d.content.%d is blank. Add text to the text field, and try again.", i, j)
			}
			toolBlocks = toolBlocks || b.ToolUse != nil || b.ToolResult != nil
		}
	}
	if toolBlocks && (req.ToolConfig == nil || len(req.ToolConfig.Tools) == 0) {
		return "The toolConfig field must be defined when using toolUse and toolResult content blocks."
	}
	if ic := req.InferenceConfig; ic != nil && ic.MaxTokens != nil && *ic.MaxTokens < 1 {
		return "1 validation error detected: Value at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1"
	}
	return ""
}

// text returns a message's words: its text, tool inputs and tool results.
func (m converseMessage) text() string {
	var parts []string
	for _, b := range m.Content {
		switch {
		case b.Text != nil:
			parts = append(parts, *b.Text)
		case b.ToolUse != nil:
			parts = append(parts, b.ToolUse.Name, string(b.ToolUse.Input))
		case b.ToolResult != nil:
			for _, rc := range b.ToolResult.Content {
				if rc.Text != nil {
					parts = append(parts, *rc.Text)
				}
				parts = append(parts, string(rc.JSON))
			}
		}
	}
	return strings.Join(parts, " ")
}

// promptTokens counts the words of the system prompts and every message, plus 3 per
// message, as the OpenAI dialect does.
func (req *converseRequest) promptTokens() int {
	n := 0
	for _, s := range req.System {
		if s.Text != nil {
			n += countWords(*s.Text)
		}
	}
	for _, m := range req.Messages {
		n += countWords(m.text()) + 3
	}
	return n
}

// pickToolCall mirrors the OpenAI dialect: a tool call when toolChoice names a tool or is
// "any", or the last user message says "call tool" (and is not a tool result).
func (req *converseRequest) pickToolCall(c *call) *toolCall {
	tc := req.ToolConfig
	if tc == nil || len(tc.Tools) == 0 {
		return nil
	}
	names := make([]string, len(tc.Tools))
	for i, t := range tc.Tools {
		names[i] = t.ToolSpec.Name
	}
	forced, required := "", false
	if ch := tc.ToolChoice; ch != nil {
		required = ch.Any != nil
		if ch.Tool != nil {
			forced = ch.Tool.Name
		}
	}
	lastUser := ""
	for _, m := range req.Messages {
		if m.Role == "user" {
			lastUser = m.text()
			for _, b := range m.Content {
				if b.ToolResult != nil {
					lastUser = ""
				}
			}
		}
	}
	name, ok := pickTool(names, forced, required, lastUser)
	if !ok {
		return nil
	}
	var schema json.RawMessage
	for _, t := range tc.Tools {
		if t.ToolSpec.Name == name {
			schema = t.ToolSpec.InputSchema.JSON
		}
	}
	args := toolArguments(schema)
	return &toolCall{id: c.s.newID("tooluse_", 22), name: name, arguments: args, fragments: splitArgs(args, c.k.chunks)}
}

// converseResponse is the Converse answer.
type converseResponse struct {
	Output struct {
		Message converseMessage `json:"message"`
	} `json:"output"`
	StopReason string        `json:"stopReason"`
	Usage      converseUsage `json:"usage"`
	Metrics    struct {
		LatencyMs int64 `json:"latencyMs"`
	} `json:"metrics"`
}

func converseOutput(a *converseAnswer, latency time.Duration) converseResponse {
	var r converseResponse
	r.Output.Message.Role = "assistant"
	if a.tool != nil {
		r.Output.Message.Content = []converseBlock{{ToolUse: &converseToolUse{
			ToolUseID: a.tool.id, Name: a.tool.name, Input: json.RawMessage(a.tool.arguments)}}}
	} else {
		text := strings.Join(a.pieces, "")
		r.Output.Message.Content = []converseBlock{{Text: &text}}
	}
	r.StopReason, r.Usage, r.Metrics.LatencyMs = a.stop, a.usage, latency.Milliseconds()
	return r
}
