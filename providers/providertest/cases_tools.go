package providertest

import (
	"encoding/json"

	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/schema"
)

const (
	toolPrompt  = "Please call tool get_weather for Paris"
	toolResult  = "18C and sunny in Paris"
	weatherDesc = "Get the current weather for a city"
)

func toolDefs() []any {
	fn := func(name, desc, param string) any {
		return map[string]any{"type": "function", "function": map[string]any{
			"name": name, "description": desc,
			"parameters": map[string]any{"type": "object", "required": []string{param},
				"properties": map[string]any{param: map[string]any{"type": "string"}}},
		}}
	}
	return []any{fn("get_weather", weatherDesc, "city"), fn("get_time", "Get the local time", "timezone")}
}

// turn1 is the first turn of the tool conversation.
func turn1(choice any) map[string]any {
	m := map[string]any{"messages": []any{userMsg(toolPrompt)}, "tools": toolDefs()}
	if choice != nil {
		m["tool_choice"] = choice
	}
	return m
}

// turn2 replays the call and answers it with the tool's result.
func turn2(call schema.ToolCall) map[string]any {
	assistant := map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{
		"id": call.ID, "type": "function",
		"function": map[string]any{"name": call.Function.Name, "arguments": call.Function.Arguments},
	}}}
	tool := map[string]any{"role": "tool", "tool_call_id": call.ID, "content": toolResult}
	return map[string]any{"messages": []any{userMsg(toolPrompt), assistant, tool}, "tools": toolDefs()}
}

// tools: a model call of get_weather, the tool result sent back, and a text answer;
// then every tool_choice form.
func (s *suite) tools() {
	cr, _ := s.complete(turn1("auto"), nil)
	call := s.checkToolCall("auto", cr.Choices[0].FinishReason, cr.Choices[0].Message.ToolCalls, "get_weather", "city")
	s.checkToolsSent()
	if call == nil {
		return
	}
	cr, _ = s.complete(turn2(*call), nil)
	if content(cr) != fakellm.Text(chunks) || cr.Choices[0].FinishReason != "stop" || len(cr.Choices[0].Message.ToolCalls) != 0 {
		s.t.Errorf("after the tool result: answer %q finish %q", content(cr), cr.Choices[0].FinishReason)
	}
	s.checkToolResultSent()

	cr, _ = s.complete(turn1("required"), nil)
	s.checkToolCall("required", cr.Choices[0].FinishReason, cr.Choices[0].Message.ToolCalls, "get_weather", "city")
	named := map[string]any{"type": "function", "function": map[string]any{"name": "get_time"}}
	cr, _ = s.complete(turn1(named), nil)
	s.checkToolCall("named", cr.Choices[0].FinishReason, cr.Choices[0].Message.ToolCalls, "get_time", "timezone")
	cr, _ = s.complete(turn1("none"), nil)
	if len(cr.Choices[0].Message.ToolCalls) != 0 || content(cr) != fakellm.Text(chunks) || cr.Choices[0].FinishReason != "stop" {
		s.t.Errorf("tool_choice none: tool calls %d, answer %q", len(cr.Choices[0].Message.ToolCalls), content(cr))
	}
}

// toolsStream: the same conversation, streamed.
func (s *suite) toolsStream() {
	st := s.stream(turn1("auto"), nil, true)
	call := s.checkToolCall("streamed", st.finish, st.toolCalls, "get_weather", "city")
	if st.content != "" {
		s.t.Errorf("streamed tool call also carries content %q", st.content)
	}
	s.checkToolsSent()
	if call == nil {
		return
	}
	st = s.stream(turn2(*call), nil, false)
	if st.content != fakellm.Text(chunks) || st.finish != "stop" || len(st.toolCalls) != 0 {
		s.t.Errorf("streamed after the tool result: answer %q finish %q", st.content, st.finish)
	}
	s.checkToolResultSent()
	named := map[string]any{"type": "function", "function": map[string]any{"name": "get_time"}}
	st = s.stream(turn1(named), nil, false)
	s.checkToolCall("streamed named", st.finish, st.toolCalls, "get_time", "timezone")
}

// checkToolCall checks one answer is exactly one call of name with valid JSON
// arguments holding param, and returns it.
func (s *suite) checkToolCall(what, finish string, calls []schema.ToolCall, name, param string) *schema.ToolCall {
	s.t.Helper()
	if finish != "tool_calls" || len(calls) != 1 {
		s.t.Errorf("%s: finish %q with %d tool calls, want tool_calls with 1", what, finish, len(calls))
		return nil
	}
	c := calls[0]
	var args map[string]any
	if err := json.Unmarshal([]byte(c.Function.Arguments), &args); err != nil {
		s.t.Errorf("%s: arguments %q are not a JSON object: %v", what, c.Function.Arguments, err)
	}
	if c.ID == "" || c.Type != "function" || c.Function.Name != name || args[param] == nil {
		s.t.Errorf("%s: call %+v, want %s with %q", what, c, name, param)
	}
	return &c
}

func (s *suite) checkToolsSent() {
	s.t.Helper()
	rec := s.last()
	for _, v := range []string{"get_weather", "get_time", weatherDesc, "city", "timezone"} {
		s.sent(rec, v, "tool definition part")
	}
}

// checkToolResultSent checks the second turn carried the call (its name and its
// arguments' value) and the tool's result, and that the result is not a system prompt.
func (s *suite) checkToolResultSent() {
	s.t.Helper()
	rec := s.last()
	s.sentWhere(rec, toolResult, "the tool result", func(p path) bool { return !isSystemPath(p) })
	s.sentWhere(rec, "get_weather", "the assistant's tool call", func(p path) bool { return !p.has("tools") })
	s.sent(rec, "fake", "the tool call's arguments")
}
