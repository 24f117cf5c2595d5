package fakellm

import (
	"encoding/json"
	"hash/fnv"
	"math"
	"strings"
)

// vocabulary holds common English words that real tokenizers count as one token each,
// with or without the leading space.
var vocabulary = strings.Fields("Hello from the fake model this is a test of the stream and every word is one token")

// Text returns the answer the fake generates for n chunks: n words separated by single
// spaces, the same for every request.
func Text(n int) string { return strings.Join(pieces(n), "") }

// pieces returns the n chunks of Text(n); every chunk but the first starts with a space.
func pieces(n int) []string {
	out := make([]string, max(n, 0))
	for i := range out {
		w := vocabulary[i%len(vocabulary)]
		if i > 0 {
			w = " " + w
		}
		out[i] = w
	}
	return out
}

// countWords is the fake's tokenizer: one token per whitespace-separated word.
func countWords(s string) int { return len(strings.Fields(s)) }

// tokens is one answer's usage before a dialect renders it. input counts the prompt
// tokens that were neither read from nor written to a cache; output counts the visible
// answer, without reasoning.
type tokens struct {
	input, cacheRead, cacheWrite int
	output, reasoning            int
}

// usageTokens combines the counted prompt and answer with the request's token knobs.
func (c *call) usageTokens(input, output int) tokens {
	return tokens{input: input, cacheRead: c.k.cached, cacheWrite: c.k.cacheWrite,
		output: output, reasoning: c.k.reasoning}
}

// prompt is every input token, cached or not: OpenAI's prompt_tokens.
func (t tokens) prompt() int { return t.input + t.cacheRead + t.cacheWrite }

// completion is every output token, reasoning included: OpenAI's completion_tokens.
func (t tokens) completion() int { return t.output + t.reasoning }

// answerLength returns how many chunks to generate when the caller allows limit (nil:
// no limit), and whether the limit cut the answer short.
func answerLength(chunks int, limit *int) (int, bool) {
	if limit != nil && *limit < chunks {
		return *limit, true
	}
	return chunks, false
}

// format is the answer format a chat request asks for, in any dialect.
type format struct {
	json   bool            // answer with a JSON object
	schema json.RawMessage // the JSON Schema the object follows, when given
}

// jsonText is the JSON answer: an object built from the schema's properties, or
// {"answer": Text(chunks)} when there is no schema.
func (f format) jsonText(chunks int) string {
	if len(f.schema) > 0 {
		return toolArguments(f.schema)
	}
	b, _ := json.Marshal(map[string]string{"answer": Text(chunks)})
	return string(b)
}

// Why a planned answer ended before its natural end.
const (
	cutNone   = ""
	cutLength = "length" // the token limit
	cutStop   = "stop"   // a stop sequence
)

// textPlan is the visible answer to a chat request that calls no tool: its streamed
// pieces (one completion token each), why it ended early, and the stop sequence that
// ended it.
type textPlan struct {
	pieces []string
	cut    string
	stop   string
}

// planText plans an answer of chunks words, or JSON in fragments when f asks for JSON,
// cut at limit pieces and then before the earliest stop sequence it contains (the stop
// sequence itself is not part of the answer, as with every provider).
func planText(chunks int, limit *int, f format, stops []string) textPlan {
	var all []string
	if f.json {
		all = splitArgs(f.jsonText(chunks), chunks)
	} else {
		all = pieces(chunks)
	}
	p := textPlan{pieces: all}
	if n, cut := answerLength(len(all), limit); cut {
		p.pieces, p.cut = all[:n], cutLength
	}
	text := strings.Join(p.pieces, "")
	at := -1
	for _, s := range stops {
		if i := strings.Index(text, s); s != "" && i >= 0 && (at < 0 || i < at) {
			at, p.stop = i, s
		}
	}
	if at >= 0 {
		p.pieces, p.cut = cutPieces(p.pieces, at), cutStop
	}
	return p
}

// cutPieces keeps the first n bytes of the joined pieces.
func cutPieces(ps []string, n int) []string {
	var out []string
	for _, p := range ps {
		if n <= 0 {
			break
		}
		if len(p) > n {
			p = p[:n]
		}
		out = append(out, p)
		n -= len(p)
	}
	return out
}

// splitArgs cuts a tool call's arguments into at most n fragments of nearly equal length.
func splitArgs(args string, n int) []string {
	n = min(max(n, 1), max(len(args), 1))
	size := (len(args) + n - 1) / n
	var out []string
	for len(args) > size {
		out = append(out, args[:size])
		args = args[size:]
	}
	return append(out, args)
}

// pickTool chooses the tool a chat request calls, if any. forced is the function named
// by tool_choice; required is tool_choice "required"; lastUser is the text of the last
// user message after the last tool result, "" when the conversation ends with a tool
// result (the model then answers in text, as a real one would).
func pickTool(names []string, forced string, required bool, lastUser string) (string, bool) {
	switch {
	case forced != "":
		return forced, true
	case len(names) == 0:
		return "", false
	case !required && !strings.Contains(strings.ToLower(lastUser), "call tool"):
		return "", false
	}
	for _, n := range names {
		if n != "" && strings.Contains(lastUser, n) {
			return n, true
		}
	}
	return names[0], true
}

// toolArguments builds a deterministic JSON object that satisfies a simple JSON Schema.
func toolArguments(schema json.RawMessage) string {
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	_ = json.Unmarshal(schema, &s)
	args := make(map[string]any, len(s.Properties))
	for name, prop := range s.Properties {
		args[name] = sampleValue(prop)
	}
	b, _ := json.Marshal(args)
	return string(b)
}

func sampleValue(prop json.RawMessage) any {
	var p struct {
		Type any   `json:"type"`
		Enum []any `json:"enum"`
	}
	_ = json.Unmarshal(prop, &p)
	if len(p.Enum) > 0 {
		return p.Enum[0]
	}
	typ, _ := p.Type.(string)
	if list, ok := p.Type.([]any); ok && len(list) > 0 {
		typ, _ = list[0].(string)
	}
	switch typ {
	case "integer":
		return 1
	case "number":
		return 1.5
	case "boolean":
		return true
	case "array":
		return []any{}
	case "object":
		return map[string]any{}
	case "null":
		return nil
	}
	return "fake"
}

// mix is splitmix64's finalizer: a fast, well-spread hash of x.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

const golden = 0x9e3779b97f4a7c15

// newID returns prefix and n characters, deterministic for a given Seed and call order.
func (s *Server) newID(prefix string, n int) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	x := mix(uint64(s.opts.Seed) + s.seq.Add(1)*golden)
	b := make([]byte, len(prefix), len(prefix)+n)
	copy(b, prefix)
	for range n {
		x += golden
		b = append(b, alphabet[mix(x)%uint64(len(alphabet))])
	}
	return string(b)
}

// embedding returns a unit vector of dims float32 values derived from model and input.
func embedding(model, input string, dims int) []float32 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(model))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(input))
	x := h.Sum64()
	v := make([]float32, dims)
	var norm float64
	for i := range v {
		x += golden
		f := float64(mix(x)>>11)/(1<<53)*2 - 1
		v[i] = float32(f)
		norm += f * f
	}
	if norm == 0 {
		return v
	}
	scale := 1 / math.Sqrt(norm)
	for i := range v {
		v[i] = float32(float64(v[i]) * scale)
	}
	return v
}
