package gemini

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/tollgate-llm/tollgate/schema"
)

// finishReason maps a Gemini finishReason to OpenAI's. A candidate that called a
// function ends with STOP upstream and with tool_calls here. Safety-type stops are
// content_filter; MAX_TOKENS is length; everything else (OTHER, MALFORMED_FUNCTION_CALL,
// UNEXPECTED_TOOL_CALL, TOO_MANY_TOOL_CALLS, NO_IMAGE, unknown values) is stop, as
// Portkey does: the answer ended, and OpenAI has no finish reason for "it went wrong".
func finishReason(reason string, calledTools bool) string {
	switch reason {
	case "MAX_TOKENS":
		return "length"
	case "SAFETY", "RECITATION", "LANGUAGE", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
		"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
		return "content_filter"
	}
	if calledTools {
		return "tool_calls"
	}
	return "stop"
}

// usageOf normalises usageMetadata: prompt_tokens is promptTokenCount (cached content
// included) plus toolUsePromptTokenCount; completion_tokens is candidatesTokenCount plus
// thoughtsTokenCount, so that the total matches totalTokenCount.
func usageOf(m *usageMetadata) schema.Usage {
	prompt := m.PromptTokenCount + m.ToolUsePromptTokenCount
	completion := m.CandidatesTokenCount + m.ThoughtsTokenCount
	return schema.Usage{
		PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion,
		CachedTokens: m.CachedContentTokenCount, ReasoningTokens: m.ThoughtsTokenCount,
	}
}

// callID returns the OpenAI id of the k-th function call of a candidate: Gemini's own
// id when it sent one, else a stable id derived from the response id, so that the same
// answer always gets the same ids.
func callID(fc *functionCall, responseID string, cand, k int) string {
	if fc.ID != "" {
		return fc.ID
	}
	h := sha256.Sum256([]byte(responseID + "/" + strconv.Itoa(cand) + "/" + strconv.Itoa(k) + "/" + fc.Name))
	return "call_" + hex.EncodeToString(h[:12])
}

// toolCall renders a functionCall part as an OpenAI tool call (without index).
func toolCall(p *part, responseID string, cand, k int) schema.ToolCall {
	args := "{}"
	if a := strings.TrimSpace(string(p.FunctionCall.Args)); a != "" && a != "null" {
		args = compactJSON(p.FunctionCall.Args)
	}
	tc := schema.ToolCall{ID: callID(p.FunctionCall, responseID, cand, k), Type: "function",
		Function: schema.FunctionCall{Name: p.FunctionCall.Name, Arguments: args}}
	if p.ThoughtSignature != "" {
		tc.ExtraContent, _ = json.Marshal(map[string]map[string]string{ // always marshals
			"google": {"thought_signature": p.ThoughtSignature}})
	}
	return tc
}

func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

// candidateIndex is the candidate's index, or its position when Gemini left it out.
func candidateIndex(c *candidate, pos int) int {
	if c.Index != nil {
		return *c.Index
	}
	return pos
}

// chatResponse translates a whole generateContent answer. A prompt blocked before any
// candidate (promptFeedback.blockReason) becomes one empty choice with finish_reason
// content_filter, billed for its prompt, rather than an error: Gemini answered 200.
func chatResponse(r *generateResponse, id, model string, created int64) (*schema.ChatResponse, schema.Usage, bool) {
	out := &schema.ChatResponse{ID: id, Object: "chat.completion", Created: created, Model: model,
		Choices: []schema.ChatChoice{}}
	if r.ModelVersion != "" {
		out.Model = r.ModelVersion
	}
	for pos := range r.Candidates {
		out.Choices = append(out.Choices, choice(&r.Candidates[pos], r.ResponseID, pos))
	}
	if len(r.Candidates) == 0 {
		out.Choices = append(out.Choices, schema.ChatChoice{Message: schema.ResponseMessage{Role: "assistant"},
			Logprobs: json.RawMessage("null"), FinishReason: "content_filter"})
	}
	if r.UsageMetadata == nil {
		return out, schema.Usage{}, false
	}
	u := usageOf(r.UsageMetadata)
	out.Usage = u.WireUsage()
	return out, u, true
}

func choice(c *candidate, responseID string, pos int) schema.ChatChoice {
	idx := candidateIndex(c, pos)
	msg := schema.ResponseMessage{Role: "assistant"}
	var text strings.Builder
	hasText := false
	if c.Content != nil {
		for i := range c.Content.Parts {
			p := &c.Content.Parts[i]
			switch {
			case p.FunctionCall != nil:
				msg.ToolCalls = append(msg.ToolCalls, toolCall(p, responseID, idx, len(msg.ToolCalls)))
			case p.Text != nil && !p.Thought:
				text.WriteString(*p.Text)
				hasText = true
			}
		}
	}
	if hasText {
		s := text.String()
		msg.Content = &s
	}
	return schema.ChatChoice{Index: idx, Message: msg, Logprobs: json.RawMessage("null"),
		FinishReason: finishReason(c.FinishReason, len(msg.ToolCalls) > 0)}
}
