package fakellm

import (
	"encoding/json"
)

// openAIStream lays out an OpenAI stream: for each choice an optional opening chunk, then
// one chunk per generated step and choice, a finish chunk per choice, the usage chunk
// when asked for, and data: [DONE].
type openAIStream struct {
	n, steps  int
	usage     *openAIUsage
	withUsage bool
	opening   func(i int) any // nil when the dialect has no opening chunk
	step      func(i, s int) any
	finish    func(i int) any
	// wrap builds a chunk around one choice (none for the usage chunk).
	wrap func(choices []any, usage json.RawMessage) any
}

func (st openAIStream) events() []sseEvent {
	var events []sseEvent
	var usage json.RawMessage // absent unless the client asked for usage
	if st.withUsage {
		usage = json.RawMessage("null")
	}
	emit := func(pause bool, choices []any, u json.RawMessage) {
		b, _ := json.Marshal(st.wrap(choices, u))
		events = append(events, sseEvent{data: b, pause: pause})
	}
	if st.opening != nil {
		for i := range st.n {
			emit(false, []any{st.opening(i)}, usage)
		}
	}
	for s := range st.steps {
		for i := range st.n {
			emit(i == 0, []any{st.step(i, s)}, usage)
		}
	}
	for i := range st.n {
		emit(false, []any{st.finish(i)}, usage)
	}
	if st.withUsage {
		u, _ := json.Marshal(st.usage)
		emit(false, []any{}, u)
	}
	return append(events, sseEvent{data: []byte("[DONE]")})
}

type chatChunk struct {
	ID                string          `json:"id"`
	Object            string          `json:"object"`
	Created           int64           `json:"created"`
	Model             string          `json:"model"`
	ServiceTier       string          `json:"service_tier"`
	SystemFingerprint string          `json:"system_fingerprint"`
	Choices           []any           `json:"choices"`
	Usage             json.RawMessage `json:"usage,omitempty"`
}

type chatChunkChoice struct {
	Index        int       `json:"index"`
	Delta        chatDelta `json:"delta"`
	Logprobs     any       `json:"logprobs"`
	FinishReason *string   `json:"finish_reason"`
}

// chatDelta uses raw JSON where a key must be able to hold null or be absent.
type chatDelta struct {
	Role      string          `json:"role,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"`
	Refusal   json.RawMessage `json:"refusal,omitempty"`
	ToolCalls []toolCallDelta `json:"tool_calls,omitempty"`
}

type toolCallDelta struct {
	Index    int    `json:"index"`
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Function struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

var jsonNull = json.RawMessage("null")

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// chatEvents lays out the stream of a chat answer.
func chatEvents(a *chatAnswer, withUsage bool) []sseEvent {
	choice := func(i int, d chatDelta, finish *string) any {
		return chatChunkChoice{Index: i, Delta: d, FinishReason: finish}
	}
	st := openAIStream{
		n: a.n, steps: a.steps(), usage: a.usage(), withUsage: withUsage,
		opening: func(i int) any {
			d := chatDelta{Role: "assistant", Content: jsonString(""), Refusal: jsonNull}
			if a.tool != nil {
				tc := toolCallDelta{ID: a.tool.id, Type: "function"}
				tc.Function.Name = a.tool.name
				d.Content, d.ToolCalls = jsonNull, []toolCallDelta{tc}
			}
			return choice(i, d, nil)
		},
		step: func(i, s int) any {
			if a.tool != nil {
				tc := toolCallDelta{}
				tc.Function.Arguments = a.tool.fragments[s]
				return choice(i, chatDelta{ToolCalls: []toolCallDelta{tc}}, nil)
			}
			return choice(i, chatDelta{Content: jsonString(a.pieces[s])}, nil)
		},
		finish: func(i int) any { return choice(i, chatDelta{}, &a.finish) },
		wrap: func(choices []any, u json.RawMessage) any {
			return chatChunk{
				ID: a.id, Object: "chat.completion.chunk", Created: a.created, Model: a.model,
				ServiceTier: "default", SystemFingerprint: systemFingerprint, Choices: choices, Usage: u,
			}
		},
	}
	return st.events()
}
