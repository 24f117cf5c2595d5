package billing

import (
	"strings"

	"github.com/tidwall/gjson"

	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/tokens"
)

// WarmTokenizers builds now the encodings that models need to be counted (their names,
// their targets' upstream names and their fallbacks), or every encoding when there are
// none, so that the first request does not pay for building one. Encodings are
// otherwise built on first use; the app calls this in the background at start.
func WarmTokenizers(models ...configs.Model) error {
	var names []string
	for _, m := range models {
		names = append(names, m.Name)
		names = append(names, m.Fallbacks...)
		for _, t := range m.Targets {
			names = append(names, t.Model)
		}
	}
	return tokens.Warm(names...)
}

// CountTokens counts the tokens of text as model's tokenizer would.
func CountTokens(model, text string) int64 { return tokens.Count(model, text) }

// meterFlushBytes is how much streamed text a StreamMeter holds before counting it.
const meterFlushBytes = 16 << 10

// StreamMeter counts what an answer produced, chunk by chunk, so that a stream cut
// short (by the client or the upstream) is billed for what was produced rather than
// for nothing. Text is counted in pieces cut at whitespace, so memory stays bounded
// and the count matches counting the whole text. A StreamMeter is used by one
// goroutine at a time.
type StreamMeter struct {
	model  string
	buf    strings.Builder
	tokens int64
	chunks int
}

// NewStreamMeter returns a meter for an answer of model.
func NewStreamMeter(model string) *StreamMeter {
	return &StreamMeter{model: model}
}

// AddChunk adds the generated text of one OpenAI-shaped chunk payload (the JSON of a
// `data:` line), or of a whole non-streamed response body: for each choice its
// delta's or message's content, reasoning_content, reasoning and refusal, its text,
// then the names and arguments of its tool calls. It runs on every chunk of every
// stream, so each choice is parsed in one pass.
func (m *StreamMeter) AddChunk(payload []byte) {
	m.chunks++
	gjson.GetBytes(payload, "choices").ForEach(func(_, choice gjson.Result) bool {
		m.addChoice(choice)
		return true
	})
}

// textKeys are the keys of a delta or message that carry generated text, in the order
// they are counted.
var textKeys = [...]string{"content", "reasoning_content", "reasoning", "refusal"}

// choiceText is the text-bearing parts of one choice. Each is the first occurrence, as
// a path lookup finds it: with duplicate keys, "delta.content" is the content of the
// first delta that has one.
type choiceText struct {
	texts [2*len(textKeys) + 1]gjson.Result // delta's, message's, then text
	calls [2]gjson.Result                   // delta.tool_calls, message.tool_calls
}

func (m *StreamMeter) addChoice(choice gjson.Result) {
	var ct choiceText
	choice.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "delta":
			ct.collect(0, v)
		case "message":
			ct.collect(1, v)
		case "text":
			if !ct.texts[len(ct.texts)-1].Exists() {
				ct.texts[len(ct.texts)-1] = v
			}
		}
		return true
	})
	for _, t := range ct.texts {
		if t.Type == gjson.String {
			m.AddText(t.Str)
		}
	}
	for _, calls := range ct.calls {
		calls.ForEach(func(_, call gjson.Result) bool {
			m.AddText(call.Get("function.name").Str)
			m.AddText(call.Get("function.arguments").Str)
			return true
		})
	}
}

// collect records the text keys and tool calls of a delta (part 0) or message (part 1).
func (ct *choiceText) collect(part int, obj gjson.Result) {
	if !obj.IsObject() {
		return
	}
	obj.ForEach(func(k, v gjson.Result) bool {
		for i, key := range textKeys {
			if k.Str == key && !ct.texts[part*len(textKeys)+i].Exists() {
				ct.texts[part*len(textKeys)+i] = v
			}
		}
		if k.Str == "tool_calls" && !ct.calls[part].Exists() {
			ct.calls[part] = v
		}
		return true
	})
}

// AddText adds generated text.
func (m *StreamMeter) AddText(s string) {
	if s == "" {
		return
	}
	m.buf.WriteString(s)
	if m.buf.Len() < meterFlushBytes {
		return
	}
	text := m.buf.String()
	cut := strings.LastIndexAny(text, " \n")
	if cut <= 0 {
		cut = len(text)
	}
	m.tokens += CountTokens(m.model, text[:cut])
	m.buf.Reset()
	m.buf.WriteString(text[cut:])
}

// Tokens returns the tokens produced so far.
func (m *StreamMeter) Tokens() int64 {
	return m.tokens + CountTokens(m.model, m.buf.String())
}

// Chunks returns how many chunks were added.
func (m *StreamMeter) Chunks() int { return m.chunks }
