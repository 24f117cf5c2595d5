package fakellm

import (
	"encoding/json"
	"fmt"
	"strings"
)

// cohereRequest is the part of a /v2/chat request the fake reads. Cohere ignores
// fields it does not know, so decoding is not strict.
type cohereRequest struct {
	Model    string          `json:"model"`
	Messages []cohereMessage `json:"messages"`
	Stream   bool            `json:"stream"`
	Tools    []struct {
		Type     string `json:"type"`
		Function struct {
			Name       string          `json:"name"`
			Parameters json.RawMessage `json:"parameters"`
		} `json:"function"`
	} `json:"tools"`
	ToolChoice     string `json:"tool_choice"`
	ResponseFormat *struct {
		Type       string          `json:"type"`
		JSONSchema json.RawMessage `json:"json_schema"`
	} `json:"response_format"`
	MaxTokens     *int     `json:"max_tokens"`
	StopSequences []string `json:"stop_sequences"`
}

type cohereMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCalls  []cohereCall    `json:"tool_calls"`
	ToolPlan   string          `json:"tool_plan"`
	ToolCallID string          `json:"tool_call_id"`
}

type cohereCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// cohereItem is a content item: text, thinking or image_url.
type cohereItem struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	ImageURL *struct {
		URL string `json:"url"`
	} `json:"image_url,omitempty"`
}

// items returns the message's content as items; a string is one text item.
func (m cohereMessage) items() ([]cohereItem, bool) {
	if len(m.Content) == 0 || string(m.Content) == "null" {
		return nil, true
	}
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return []cohereItem{{Type: "text", Text: s}}, true
	}
	var items []cohereItem
	return items, json.Unmarshal(m.Content, &items) == nil
}

func (m cohereMessage) text() string {
	items, _ := m.items()
	parts := []string{m.ToolPlan}
	for _, it := range items {
		parts = append(parts, it.Text)
	}
	for _, tc := range m.ToolCalls {
		parts = append(parts, tc.Function.Name, tc.Function.Arguments)
	}
	return strings.Join(parts, " ")
}

// validate returns Cohere's 400 message for a request it would reject, or "".
func (req *cohereRequest) validate() string {
	if len(req.Messages) == 0 {
		return "messages must not be empty"
	}
	calls := map[string]bool{}
	for i, m := range req.Messages {
		items, ok := m.items()
		switch {
		case m.Role != "system" && m.Role != "user" && m.Role != "assistant" && m.Role != "tool":
			return fmt.Sprintf("messages[%d]: invalid role %q", i, m.Role)
		case m.Role == "system" && i > 0 && req.Messages[i-1].Role != "system":
			return "system turn must be the first in the list"
		case !ok:
			return fmt.Sprintf("messages[%d].content must be a string or a list of content items", i)
		case m.Role == "tool" && !calls[m.ToolCallID]:
			return fmt.Sprintf("messages[%d]: tool_call_id %q does not match a tool call of an earlier message", i, m.ToolCallID)
		case m.Role == "user" && len(items) == 0:
			return fmt.Sprintf("messages[%d]: message must not be empty in a turn", i)
		}
		for _, it := range items {
			if it.Type == "image_url" && (it.ImageURL == nil || !strings.HasPrefix(it.ImageURL.URL, "data:") &&
				!strings.HasPrefix(it.ImageURL.URL, "http")) {
				return fmt.Sprintf("messages[%d]: image_url must be a data URI or a web URL", i)
			}
		}
		for _, tc := range m.ToolCalls {
			calls[tc.ID] = true
		}
	}
	switch {
	case req.ToolChoice != "" && req.ToolChoice != "REQUIRED" && req.ToolChoice != "NONE":
		return "tool_choice must be one of REQUIRED, NONE"
	case req.ResponseFormat != nil && req.ResponseFormat.Type != "text" && len(req.Tools) > 0:
		return "response_format is not supported with tools"
	case len(req.StopSequences) > 5:
		return "stop_sequences must have at most 5 elements"
	case req.MaxTokens != nil && *req.MaxTokens < 1:
		return "max_tokens must be at least 1"
	}
	return ""
}

// cohereAnswer is what the fake says to one /v2/chat request.
type cohereAnswer struct {
	id     string
	pieces []string
	plan   string
	call   *cohereCall
	frags  []string // the call's arguments, as streamed
	finish string
	tok    tokens
}

func planCohere(c *call, req *cohereRequest) *cohereAnswer {
	a := &cohereAnswer{id: cohereUUID(c), finish: "COMPLETE"}
	prompt, lastUser := 0, ""
	for _, m := range req.Messages {
		prompt += countWords(m.text()) + 3
		switch m.Role {
		case "user":
			lastUser = m.text()
		case "tool":
			lastUser = ""
		}
	}
	a.tok = c.usageTokens(prompt, 0)
	var names []string
	for _, t := range req.Tools {
		names = append(names, t.Function.Name)
	}
	if name, ok := pickTool(names, "", req.ToolChoice == "REQUIRED", lastUser); ok && req.ToolChoice != "NONE" {
		a.call = &cohereCall{ID: name + "_" + strings.ToLower(c.s.newID("", 12)), Type: "function"}
		a.call.Function.Name = name
		for _, t := range req.Tools {
			if t.Function.Name == name {
				a.call.Function.Arguments = toolArguments(t.Function.Parameters)
			}
		}
		a.plan = "I will call " + name + " to answer the question."
		a.frags = splitArgs(a.call.Function.Arguments, c.k.chunks)
		a.finish, a.tok.output = "TOOL_CALL", len(a.frags)
		return a
	}
	f := format{}
	if rf := req.ResponseFormat; rf != nil && rf.Type == "json_object" {
		f = format{json: true, schema: rf.JSONSchema}
	}
	p := planText(c.k.chunks, req.MaxTokens, f, req.StopSequences)
	a.pieces, a.tok.output = p.pieces, len(p.pieces)
	switch p.cut {
	case cutLength:
		a.finish = "MAX_TOKENS"
	case cutStop:
		a.finish = "STOP_SEQUENCE"
	}
	return a
}

// usage is Cohere's usage object: billed units, tokens with the prompt template, and
// the cache reads.
func (a *cohereAnswer) usage() map[string]any {
	in, out := a.tok.prompt(), a.tok.completion()
	u := map[string]any{
		"billed_units": map[string]int{"input_tokens": in, "output_tokens": out},
		"tokens":       map[string]int{"input_tokens": in + cohereTemplateTokens, "output_tokens": out},
	}
	if a.tok.cacheRead > 0 {
		u["cached_tokens"] = a.tok.cacheRead
	}
	return u
}

func (a *cohereAnswer) response(withUsage bool) map[string]any {
	msg := map[string]any{"role": "assistant"}
	if a.call != nil {
		msg["tool_plan"], msg["tool_calls"] = a.plan, []cohereCall{*a.call}
	} else {
		msg["content"] = []cohereItem{{Type: "text", Text: strings.Join(a.pieces, "")}}
	}
	r := map[string]any{"id": a.id, "message": msg, "finish_reason": a.finish}
	if withUsage {
		r["usage"] = a.usage()
	}
	return r
}

func handleCohereChat(c *call) {
	var req cohereRequest
	if !decodeCohere(c, &req) || !checkCohereModel(c, req.Model) {
		return
	}
	if msg := req.validate(); msg != "" {
		c.fail(cohereBadRequest(msg))
		return
	}
	a := planCohere(c, &req)
	c.charge(a.tok.prompt() + a.tok.completion())
	withUsage := c.k.mode != ModeNoUsage
	steps := max(len(a.pieces), len(a.frags), 1)
	if !req.Stream {
		c.respond(a.response(withUsage), c.generationTime(steps))
		return
	}
	c.stream(a.events(withUsage), cohereEvent(map[string]any{"type": "message-end",
		"delta": map[string]any{"finish_reason": "ERROR", "error": "internal server error, this has been reported to our developers"}}, false))
}
