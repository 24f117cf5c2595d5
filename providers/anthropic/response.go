package anthropic

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

// finishReason maps a stop_reason to OpenAI's finish_reason. pause_turn (a server
// tool paused a long turn) ends this answer like a normal stop; refusal is a content
// filter; an unknown reason is a stop.
func finishReason(stop string) string {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "refusal":
		return "content_filter"
	}
	return "stop"
}

// normalise renders Anthropic's usage with OpenAI's meaning: input_tokens excludes
// cache reads and writes, so the prompt is the sum of the three; output_tokens already
// includes thinking.
func (u *usage) normalise() schema.Usage {
	if u == nil {
		return schema.Usage{}
	}
	n := func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	}
	out := schema.Usage{
		CachedTokens:     n(u.CacheReadInputTokens),
		CacheWriteTokens: n(u.CacheCreationInputTokens),
		CompletionTokens: n(u.OutputTokens),
	}
	out.PromptTokens = n(u.InputTokens) + out.CachedTokens + out.CacheWriteTokens
	if d := u.OutputTokensDetails; d != nil {
		out.ReasoningTokens = n(d.ThinkingTokens)
	}
	out.TotalTokens = out.PromptTokens + out.CompletionTokens
	return out
}

// merge folds a later (cumulative) usage report into u: present counts replace.
func (u *usage) merge(later *usage) {
	if later == nil {
		return
	}
	set := func(dst **int64, v *int64) {
		if v != nil {
			*dst = v
		}
	}
	set(&u.InputTokens, later.InputTokens)
	set(&u.OutputTokens, later.OutputTokens)
	set(&u.CacheCreationInputTokens, later.CacheCreationInputTokens)
	set(&u.CacheReadInputTokens, later.CacheReadInputTokens)
	if later.OutputTokensDetails != nil && later.OutputTokensDetails.ThinkingTokens != nil {
		u.OutputTokensDetails = later.OutputTokensDetails
	}
}

// convertResponse translates a Message into an OpenAI chat completion. Text blocks
// join into the content, tool_use blocks become tool calls, and thinking blocks are
// left out: their tokens are counted in usage, their text is not the answer.
func convertResponse(m *messageResponse, created int64) (*schema.ChatResponse, schema.Usage, error) {
	if m.Type != "message" || m.Role != "assistant" || m.Usage == nil || m.Usage.InputTokens == nil ||
		m.Usage.OutputTokens == nil {
		return nil, schema.Usage{}, apierr.Upstream("the upstream answer is not an Anthropic message")
	}
	var text strings.Builder
	var calls []schema.ToolCall
	for _, b := range m.Content {
		switch b.Type {
		case "text":
			if b.Text != nil {
				text.WriteString(*b.Text)
			}
		case "tool_use":
			calls = append(calls, schema.ToolCall{ID: b.ID, Type: "function",
				Function: schema.FunctionCall{Name: b.Name, Arguments: compactArgs(b.Input)}})
		}
	}
	msg := schema.ResponseMessage{Role: "assistant", ToolCalls: calls}
	if s := text.String(); s != "" || len(calls) == 0 {
		msg.Content = &s
	}
	stop := ""
	if m.StopReason != nil {
		stop = *m.StopReason
	}
	u := m.Usage.normalise()
	return &schema.ChatResponse{
		ID: m.ID, Object: "chat.completion", Created: created, Model: m.Model,
		Choices: []schema.ChatChoice{{Index: 0, Message: msg, Logprobs: json.RawMessage("null"), FinishReason: finishReason(stop)}},
		Usage:   u.WireUsage(),
	}, u, nil
}

// compactArgs renders a tool_use input as OpenAI's arguments string.
func compactArgs(input json.RawMessage) string {
	if len(input) == 0 {
		return "{}"
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, input); err != nil {
		return string(input)
	}
	return buf.String()
}
