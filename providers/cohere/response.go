package cohere

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers/openai"
	"github.com/tollgate-llm/tollgate/schema"
)

// finishReason maps Cohere's finish_reason. ERROR is not a finish reason but a failure,
// reported by errFinish; TIMEOUT means the generation was cut short by a time limit,
// which OpenAI calls length. Unknown values are stop.
func finishReason(r string) string {
	switch r {
	case "MAX_TOKENS", "TIMEOUT":
		return "length"
	case "TOOL_CALL":
		return "tool_calls"
	}
	return "stop"
}

// errFinish is the error for an answer that ended with finish_reason ERROR: a
// retryable 502 carrying Cohere's message.
func errFinish(msg string, key schema.Secret) *apierr.Error {
	if msg == "" {
		msg = "the upstream stopped generating with an error"
	}
	e := apierr.New(apierr.KindProvider, http.StatusBadGateway, "upstream_error", "upstream_error", openai.Sanitize(msg, key))
	e.Retryable = true
	return e
}

// count rounds one of Cohere's float counts; absent, negative or absurd counts are zero.
func count(f *float64) int64 {
	if f == nil || math.IsNaN(*f) || *f <= 0 || *f > 1e15 {
		return 0
	}
	return int64(math.Round(*f))
}

// usageOf normalises Cohere's usage. The billed units are what Cohere charges for, so
// they are prompt_tokens and completion_tokens; tokens (which also count the prompt
// template) are used only when billed units are absent. cached_tokens is the part of
// the prompt read from the cache. Cohere reports no reasoning count: thinking is
// billed as output.
func usageOf(u *usage) (schema.Usage, bool) {
	if u == nil || (u.BilledUnits == nil && u.Tokens == nil) {
		return schema.Usage{}, false
	}
	src := u.BilledUnits
	if src == nil || (src.InputTokens == nil && src.OutputTokens == nil) {
		src = u.Tokens
	}
	if src == nil {
		return schema.Usage{}, false
	}
	out := schema.Usage{PromptTokens: count(src.InputTokens), CompletionTokens: count(src.OutputTokens)}
	out.CachedTokens = min(count(u.CachedTokens), out.PromptTokens)
	out.TotalTokens = out.PromptTokens + out.CompletionTokens
	return out, true
}

// toOpenAI translates a whole /v2/chat answer. Its text items are the content; thinking
// items and the tool plan are not shown.
func toOpenAI(r *chatResponse, id, model string, created int64) *schema.ChatResponse {
	msg := schema.ResponseMessage{Role: "assistant"}
	var text strings.Builder
	hasText := false
	for _, c := range r.Message.Content {
		if c.Type == "text" {
			text.WriteString(c.Text)
			hasText = true
		}
	}
	if hasText {
		s := text.String()
		msg.Content = &s
	}
	for _, tc := range r.Message.ToolCalls {
		msg.ToolCalls = append(msg.ToolCalls, openAICall(tc))
	}
	finish := finishReason(r.FinishReason)
	if len(msg.ToolCalls) > 0 && finish == "stop" {
		finish = "tool_calls"
	}
	return &schema.ChatResponse{ID: id, Object: "chat.completion", Created: created, Model: model,
		Choices: []schema.ChatChoice{{Message: msg, Logprobs: json.RawMessage("null"), FinishReason: finish}}}
}

func openAICall(tc toolCall) schema.ToolCall {
	args := tc.Function.Arguments
	if strings.TrimSpace(args) == "" {
		args = "{}"
	}
	return schema.ToolCall{ID: tc.ID, Type: "function", Function: schema.FunctionCall{Name: tc.Function.Name, Arguments: args}}
}
