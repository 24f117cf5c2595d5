package fakellm

import (
	"encoding/json"
	"strings"
)

// cohereEvent frames one stream event: its type in an event: line and in the data.
func cohereEvent(ev map[string]any, pause bool) sseEvent {
	b, _ := json.Marshal(ev) // maps of plain values always marshal
	name, _ := ev["type"].(string)
	return sseEvent{name: name, data: b, pause: pause}
}

// delta wraps a delta.message value.
func delta(message map[string]any) map[string]any {
	return map[string]any{"message": message}
}

// events lays out the stream of an answer, ending with data: [DONE].
func (a *cohereAnswer) events(withUsage bool) []sseEvent {
	evs := []sseEvent{cohereEvent(map[string]any{"id": a.id, "type": "message-start", "delta": delta(map[string]any{
		"role": "assistant", "content": []any{}, "tool_plan": "", "tool_calls": []any{}, "citations": []any{}})}, false)}
	if a.call != nil {
		evs = append(evs, a.callEvents()...)
	} else {
		evs = append(evs, cohereEvent(map[string]any{"type": "content-start", "index": 0,
			"delta": delta(map[string]any{"content": map[string]any{"type": "text", "text": ""}})}, false))
		for _, p := range a.pieces {
			evs = append(evs, cohereEvent(map[string]any{"type": "content-delta", "index": 0,
				"delta": delta(map[string]any{"content": map[string]any{"text": p}})}, true))
		}
		evs = append(evs, cohereEvent(map[string]any{"type": "content-end", "index": 0}, false))
	}
	end := map[string]any{"finish_reason": a.finish}
	if withUsage {
		end["usage"] = a.usage()
	}
	evs = append(evs, cohereEvent(map[string]any{"type": "message-end", "delta": end}, false))
	return append(evs, sseEvent{data: []byte("[DONE]")})
}

// callEvents stream the tool plan word by word, then the call: its id and name, its
// arguments in fragments, and its end.
func (a *cohereAnswer) callEvents() []sseEvent {
	var evs []sseEvent
	for i, w := range strings.Fields(a.plan) {
		if i > 0 {
			w = " " + w
		}
		evs = append(evs, cohereEvent(map[string]any{"type": "tool-plan-delta",
			"delta": delta(map[string]any{"tool_plan": w})}, false))
	}
	evs = append(evs, cohereEvent(map[string]any{"type": "tool-call-start", "index": 0, "delta": delta(map[string]any{
		"tool_calls": map[string]any{"id": a.call.ID, "type": "function",
			"function": map[string]any{"name": a.call.Function.Name, "arguments": ""}}})}, false))
	for _, f := range a.frags {
		evs = append(evs, cohereEvent(map[string]any{"type": "tool-call-delta", "index": 0, "delta": delta(map[string]any{
			"tool_calls": map[string]any{"function": map[string]any{"arguments": f}}})}, true))
	}
	return append(evs, cohereEvent(map[string]any{"type": "tool-call-end", "index": 0}, false))
}

// cohereEmbedRequest is the part of a /v2/embed request the fake reads.
type cohereEmbedRequest struct {
	Model           string   `json:"model"`
	Texts           []string `json:"texts"`
	InputType       string   `json:"input_type"`
	EmbeddingTypes  []string `json:"embedding_types"`
	OutputDimension *int     `json:"output_dimension"`
	Truncate        string   `json:"truncate"`
}

// cohereInputTypes are the input types embed v3 and later models require.
var cohereInputTypes = map[string]bool{"search_document": true, "search_query": true, "classification": true,
	"clustering": true, "image": true}

// validate returns Cohere's 400 message for an embed request it would reject, or "".
func (req *cohereEmbedRequest) validate() string {
	switch {
	case len(req.Texts) == 0:
		return "texts must not be empty"
	case len(req.Texts) > 96:
		return "texts must have at most 96 elements"
	case !cohereInputTypes[req.InputType]:
		return "valid input_type must be provided with the provided model"
	case req.OutputDimension != nil && *req.OutputDimension != 256 && *req.OutputDimension != 512 &&
		*req.OutputDimension != 1024 && *req.OutputDimension != 1536:
		return "output_dimension must be one of 256, 512, 1024, 1536"
	}
	for _, t := range req.EmbeddingTypes {
		switch t {
		case "float", "base64", "int8", "uint8", "binary", "ubinary":
		default:
			return "embedding_types must be float, int8, uint8, binary, ubinary or base64"
		}
	}
	return ""
}

// handleCohereEmbed answers /v2/embed with the float and base64 types (the integer
// types are quantised floats and answer the same floats here).
func handleCohereEmbed(c *call) {
	var req cohereEmbedRequest
	if !decodeCohere(c, &req) || !checkCohereModel(c, req.Model) {
		return
	}
	if msg := req.validate(); msg != "" {
		c.fail(cohereBadRequest(msg))
		return
	}
	dims := defaultDimensions
	if req.OutputDimension != nil {
		dims = *req.OutputDimension
	}
	types := req.EmbeddingTypes
	if len(types) == 0 {
		types = []string{"float"}
	}
	embeddings := map[string]any{}
	tokens := 0
	vecs := make([][]float32, len(req.Texts))
	for i, t := range req.Texts {
		vecs[i] = embedding(req.Model, t, dims)
		tokens += countWords(t)
	}
	for _, t := range types {
		if t != "base64" {
			embeddings[t] = vecs
			continue
		}
		b64 := make([]string, len(vecs))
		for i, v := range vecs {
			b64[i] = encodeFloats(v)
		}
		embeddings[t] = b64
	}
	c.charge(tokens)
	c.respond(map[string]any{"id": cohereUUID(c), "texts": req.Texts, "embeddings": embeddings,
		"meta": map[string]any{"api_version": map[string]string{"version": "2"},
			"billed_units": map[string]int{"input_tokens": tokens}},
		"response_type": "embeddings_by_type"}, 0)
}
