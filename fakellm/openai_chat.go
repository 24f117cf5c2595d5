package fakellm

import (
	"encoding/json"
	"strings"
	"time"
)

// chatRequest is the part of a chat completion request the fake reads.
type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []chatMessage   `json:"messages"`
	Stream              bool            `json:"stream"`
	StreamOptions       *streamOptions  `json:"stream_options"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	N                   *int            `json:"n"`
	Tools               []chatTool      `json:"tools"`
	ToolChoice          json.RawMessage `json:"tool_choice"`
	ResponseFormat      *struct {
		Type       string `json:"type"`
		JSONSchema struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	} `json:"response_format"`
	Stop json.RawMessage `json:"stop"`
}

// format returns what response_format asks for.
func (req *chatRequest) format() format {
	rf := req.ResponseFormat
	if rf == nil || (rf.Type != "json_object" && rf.Type != "json_schema") {
		return format{}
	}
	return format{json: true, schema: rf.JSONSchema.Schema}
}

// stops returns stop, a string or an array of strings.
func (req *chatRequest) stops() []string {
	var one string
	if json.Unmarshal(req.Stop, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(req.Stop, &many)
	return many
}

type chatMessage struct {
	Role      string          `json:"role"`
	Content   json.RawMessage `json:"content"`
	ToolCalls []struct {
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
}

type chatTool struct {
	Type     string `json:"type"`
	Function struct {
		Name       string          `json:"name"`
		Parameters json.RawMessage `json:"parameters"`
	} `json:"function"`
}

// text returns the message's text: a string content, the text parts of an array
// content, and the arguments of its tool calls.
func (m chatMessage) text() string {
	var parts []string
	var s string
	var arr []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(m.Content, &s) == nil {
		parts = append(parts, s)
	} else if json.Unmarshal(m.Content, &arr) == nil {
		for _, p := range arr {
			parts = append(parts, p.Text)
		}
	}
	for _, tc := range m.ToolCalls {
		parts = append(parts, tc.Function.Name, tc.Function.Arguments)
	}
	return strings.Join(parts, " ")
}

// promptTokens counts the words of every message plus 3 per message.
func (req *chatRequest) promptTokens() int {
	n := 0
	for _, m := range req.Messages {
		n += countWords(m.text()) + 3
	}
	return n
}

// toolCall is the call a chat answer makes instead of text.
type toolCall struct {
	id, name, arguments string
	fragments           []string // the arguments, as streamed
}

// pickToolCall decides whether the answer is a tool call, and builds it.
func (req *chatRequest) pickToolCall(c *call) *toolCall {
	var choice string
	_ = json.Unmarshal(req.ToolChoice, &choice)
	if choice == "none" || len(req.Tools) == 0 {
		return nil
	}
	var named struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	_ = json.Unmarshal(req.ToolChoice, &named)
	names := make([]string, len(req.Tools))
	for i, t := range req.Tools {
		names[i] = t.Function.Name
	}
	lastUser := ""
	for _, m := range req.Messages {
		switch m.Role {
		case "user":
			lastUser = m.text()
		case "tool":
			lastUser = ""
		}
	}
	name, ok := pickTool(names, named.Function.Name, choice == "required", lastUser)
	if !ok {
		return nil
	}
	var schema json.RawMessage
	for _, t := range req.Tools {
		if t.Function.Name == name {
			schema = t.Function.Parameters
			break
		}
	}
	args := toolArguments(schema)
	return &toolCall{id: c.s.newID("call_", 24), name: name, arguments: args, fragments: splitArgs(args, c.k.chunks)}
}

// chatAnswer is what the fake says to one chat request, before it is rendered.
type chatAnswer struct {
	id, model string
	created   int64
	n         int // choices
	pieces    []string
	tool      *toolCall
	finish    string
	prompt    int
	perChoice int // completion tokens of one choice
	extra     tokens
}

// usage reports the answer's tokens plus the cache and reasoning knobs.
func (a *chatAnswer) usage() *openAIUsage {
	t := a.extra
	t.input, t.output = a.prompt, a.perChoice*a.n
	u := newUsage(t.prompt(), t.completion(), true)
	u.PromptTokensDetails.CachedTokens = t.cacheRead
	u.CompletionTokensDetails.ReasoningTokens = t.reasoning
	return u
}

// steps is how many generated chunks one choice has.
func (a *chatAnswer) steps() int {
	if a.tool != nil {
		return len(a.tool.fragments)
	}
	return len(a.pieces)
}

func handleChat(c *call) {
	var req chatRequest
	if !decodeBody(c, &req) || !checkModel(c, req.Model) {
		return
	}
	if len(req.Messages) == 0 {
		c.fail(errBadRequest("Missing required parameter: 'messages'.", "messages", "missing_required_parameter"))
		return
	}
	if !checkLimit(c, "max_tokens", req.MaxTokens) || !checkLimit(c, "max_completion_tokens", req.MaxCompletionTokens) ||
		!checkStreamOptions(c, req.Stream, req.StreamOptions) {
		return
	}
	a := &chatAnswer{
		id: c.s.newID("chatcmpl-", 29), model: req.Model, created: time.Now().Unix(),
		n: choiceCount(req.N), prompt: req.promptTokens(), finish: "stop",
	}
	if a.tool = req.pickToolCall(c); a.tool != nil {
		a.finish, a.perChoice = "tool_calls", len(a.tool.fragments)
	} else {
		limit := req.MaxCompletionTokens
		if limit == nil || (req.MaxTokens != nil && *req.MaxTokens < *limit) {
			limit = req.MaxTokens
		}
		p := planText(c.k.chunks, limit, req.format(), req.stops())
		a.pieces, a.perChoice = p.pieces, len(p.pieces)
		if p.cut == cutLength {
			a.finish = "length"
		}
	}
	a.extra = c.usageTokens(0, 0)
	c.charge(a.prompt + a.perChoice*a.n)
	if req.Stream {
		c.stream(chatEvents(a, wantsUsage(c, req.StreamOptions)), openAIErrorEvent(c.k.errorStatus))
		return
	}
	c.respond(chatCompletion(a), c.generationTime(a.steps()))
}

// choiceCount reads n, clamped to 1..16.
func choiceCount(n *int) int {
	if n == nil {
		return 1
	}
	return min(max(*n, 1), 16)
}

type chatResponse struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	Choices           []chatChoice `json:"choices"`
	Usage             *openAIUsage `json:"usage"`
	ServiceTier       string       `json:"service_tier"`
	SystemFingerprint string       `json:"system_fingerprint"`
}

type chatChoice struct {
	Index        int        `json:"index"`
	Message      chatOutput `json:"message"`
	Logprobs     any        `json:"logprobs"`
	FinishReason string     `json:"finish_reason"`
}

type chatOutput struct {
	Role        string        `json:"role"`
	Content     *string       `json:"content"`
	Refusal     *string       `json:"refusal"`
	ToolCalls   []toolCallOut `json:"tool_calls,omitempty"`
	Annotations []any         `json:"annotations"`
}

type toolCallOut struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

func chatCompletion(a *chatAnswer) chatResponse {
	out := chatOutput{Role: "assistant", Annotations: []any{}}
	if a.tool != nil {
		tc := toolCallOut{ID: a.tool.id, Type: "function"}
		tc.Function.Name, tc.Function.Arguments = a.tool.name, a.tool.arguments
		out.ToolCalls = []toolCallOut{tc}
	} else {
		text := strings.Join(a.pieces, "")
		out.Content = &text
	}
	resp := chatResponse{
		ID: a.id, Object: "chat.completion", Created: a.created, Model: a.model, Usage: a.usage(),
		ServiceTier: "default", SystemFingerprint: systemFingerprint,
	}
	for i := range a.n {
		resp.Choices = append(resp.Choices, chatChoice{Index: i, Message: out, FinishReason: a.finish})
	}
	return resp
}
