package fakellm

import "encoding/json"

// messagesEvents lays out a Messages stream: message_start, a ping, an optional
// thinking block, the text or tool_use block with one delta per generated piece,
// message_delta with the stop reason and cumulative usage, and message_stop. Every
// event's name equals its data's type.
func messagesEvents(a *messagesAnswer) []sseEvent {
	var events []sseEvent
	emit := func(pause bool, v map[string]any) {
		b, _ := json.Marshal(v)
		events = append(events, sseEvent{name: v["type"].(string), data: b, pause: pause})
	}
	start := map[string]any{"id": a.id, "type": "message", "role": "assistant", "model": a.model,
		"content": []any{}, "stop_reason": nil, "stop_sequence": nil,
		"usage": a.tokens.anthropicUsage(1, "standard")}
	emit(false, map[string]any{"type": "message_start", "message": start})
	emit(false, map[string]any{"type": "ping"})
	index := 0
	block := func(first map[string]any, deltas []map[string]any) {
		emit(false, map[string]any{"type": "content_block_start", "index": index, "content_block": first})
		for _, d := range deltas {
			emit(d["type"] == "text_delta" || d["type"] == "input_json_delta",
				map[string]any{"type": "content_block_delta", "index": index, "delta": d})
		}
		emit(false, map[string]any{"type": "content_block_stop", "index": index})
		index++
	}
	if a.thinking != "" {
		block(map[string]any{"type": "thinking", "thinking": "", "signature": ""}, []map[string]any{
			{"type": "thinking_delta", "thinking": a.thinking},
			{"type": "signature_delta", "signature": fakeSignature},
		})
	}
	if a.tool != nil {
		var deltas []map[string]any
		for _, f := range a.tool.fragments {
			deltas = append(deltas, map[string]any{"type": "input_json_delta", "partial_json": f})
		}
		block(map[string]any{"type": "tool_use", "id": a.tool.id, "name": a.tool.name, "input": map[string]any{}}, deltas)
	} else {
		var deltas []map[string]any
		for _, p := range a.plan.pieces {
			deltas = append(deltas, map[string]any{"type": "text_delta", "text": p})
		}
		block(map[string]any{"type": "text", "text": ""}, deltas)
	}
	var stopSeq any
	if a.plan.stop != "" {
		stopSeq = a.plan.stop
	}
	u := a.tokens.anthropicUsage(a.tokens.completion(), "")
	emit(false, map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": a.stop, "stop_sequence": stopSeq}, "usage": u})
	emit(false, map[string]any{"type": "message_stop"})
	return events
}
