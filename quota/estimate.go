package quota

import (
	"hash/maphash"
	"sync"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/tollgate-llm/tollgate/schema"
	"github.com/tollgate-llm/tollgate/tokens"
)

// Token estimation counts with tokens, which counts exactly as tiktoken-go does from
// the BPE tables compiled into the binary by tiktoken-go-loader: nothing is downloaded,
// ever. The overheads follow OpenAI's cookbook for chat messages; media parts count a
// flat amount.
const (
	perMessage   = 3  // tokens framing each chat message
	replyPrimer  = 3  // tokens priming the assistant's reply
	perName      = 1  // a message's name field
	perTool      = 8  // framing of each tool definition
	perMediaPart = 85 // an image, audio or file part, at OpenAI's low-detail image rate
)

// encoders holds one counter per encoding, each with a cache of counts. The encodings
// are built on first use, or in the background at start (see billing.WarmTokenizers).
var encoders = map[string]*encoder{
	tokens.CL100K: newEncoder(tokens.CL100K),
	tokens.O200K:  newEncoder(tokens.O200K),
}

type encoder struct {
	tok   *tokens.Encoder
	seed  maphash.Seed
	mu    sync.Mutex
	cache map[uint64]int64
}

func newEncoder(name string) *encoder {
	return &encoder{tok: tokens.Get(name), seed: maphash.MakeSeed(), cache: make(map[uint64]int64, cacheEntries)}
}

// Counting a short message costs a few microseconds (tokens keeps counts of the pieces
// of words it has merged before), and is kept cheaper two ways. Texts are remembered by
// hash: a conversation resends its history every turn, and only the new messages are
// counted. Texts longer than exactBytes are counted on sampleCount samples of
// sampleBytes spread over the text and scaled by length, so that a huge prompt costs a
// bounded time; Settle corrects the estimate to the real usage anyway.
const (
	cacheEntries = 8192
	exactBytes   = 8 << 10
	sampleBytes  = 1 << 10
	sampleCount  = 3
)

// EncodingFor returns the name of the encoding used to count model's tokens.
func EncodingFor(model string) string { return tokens.EncodingFor(model) }

// counter counts the tokens of texts with one encoding (at four bytes a token if the
// encoding could not be built).
type counter struct {
	e *encoder
}

func (c counter) count(s string) int64 {
	if s == "" {
		return 0
	}
	h := maphash.String(c.e.seed, s)
	c.e.mu.Lock()
	n, ok := c.e.cache[h]
	c.e.mu.Unlock()
	if ok {
		return n
	}
	if len(s) <= exactBytes {
		n = c.exact(s)
	} else {
		n = c.sampled(s)
	}
	c.e.mu.Lock()
	if len(c.e.cache) >= cacheEntries {
		for k := range c.e.cache { // evict one entry, at random
			delete(c.e.cache, k)
			break
		}
	}
	c.e.cache[h] = n
	c.e.mu.Unlock()
	return n
}

func (c counter) exact(s string) int64 { return c.e.tok.Count(s) }

// sampled counts samples from the start, middle and end of a long text, cut at rune
// boundaries, and scales their tokens per byte to the whole text.
func (c counter) sampled(s string) int64 {
	var tokens, bytes int64
	step := (len(s) - sampleBytes) / (sampleCount - 1)
	for i := range sampleCount {
		lo, hi := runeStart(s, i*step), runeStart(s, min(i*step+sampleBytes, len(s)))
		tokens += c.exact(s[lo:hi])
		bytes += int64(hi - lo)
	}
	if bytes == 0 {
		return 0
	}
	return (tokens*int64(len(s)) + bytes - 1) / bytes
}

// runeStart moves i back to the start of the UTF-8 sequence it falls in.
func runeStart(s string, i int) int {
	for i > 0 && i < len(s) && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

// Estimate returns the tokens to reserve for req before it is sent: the prompt counted
// as tiktoken-go counts it (chat messages with their tool calls and the tool
// definitions, a completions prompt, or embeddings input), plus the output it may
// produce: max_tokens, or defaultOutput (the model's output limit) when the client set
// none, times n. An embeddings request produces no output tokens.
func Estimate(req *schema.Request, defaultOutput int64) int64 {
	c := counter{e: encoders[EncodingFor(req.Model)]}
	var prompt, n int64
	if req.Endpoint == schema.EndpointChat {
		prompt = replyPrimer
	}
	// One pass over the top-level fields: bodies can be large.
	gjson.ParseBytes(req.Body).ForEach(func(k, v gjson.Result) bool {
		switch {
		case req.Endpoint == schema.EndpointChat && k.Str == "messages":
			v.ForEach(func(_, m gjson.Result) bool { prompt += c.message(m); return true })
		case req.Endpoint == schema.EndpointChat && k.Str == "tools":
			v.ForEach(func(_, t gjson.Result) bool { prompt += perTool + c.function(t.Get("function")); return true })
		case req.Endpoint == schema.EndpointChat && k.Str == "functions":
			v.ForEach(func(_, f gjson.Result) bool { prompt += perTool + c.function(f); return true })
		case req.Endpoint == schema.EndpointCompletions && k.Str == "prompt",
			req.Endpoint == schema.EndpointEmbeddings && k.Str == "input":
			prompt += c.input(v)
		case k.Str == "n":
			n = v.Int()
		}
		return true
	})
	if req.Endpoint == schema.EndpointEmbeddings {
		return prompt
	}
	out := req.MaxTokens
	if out <= 0 {
		out = max(defaultOutput, 0)
	}
	return prompt + out*max(n, 1)
}

// message counts one chat message: its role, content, name and tool calls.
func (c counter) message(m gjson.Result) int64 {
	var n int64 = perMessage
	m.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "role":
			n += c.count(v.Str)
		case "content":
			n += c.content(v)
		case "name":
			n += perName + c.count(v.Str)
		case "tool_calls":
			v.ForEach(func(_, tc gjson.Result) bool {
				n += c.count(tc.Get("function.name").Str) + c.count(tc.Get("function.arguments").Str)
				return true
			})
		case "function_call":
			n += c.count(v.Get("name").Str) + c.count(v.Get("arguments").Str)
		}
		return true
	})
	return n
}

// function counts a tool definition: its name, description and parameter schema.
func (c counter) function(f gjson.Result) int64 {
	return c.count(f.Get("name").String()) + c.count(f.Get("description").String()) +
		c.count(f.Get("parameters").Raw)
}

// content counts a message's content: a string, or an array of parts.
func (c counter) content(v gjson.Result) int64 {
	if !v.IsArray() {
		return c.count(v.String())
	}
	var n int64
	for _, p := range v.Array() {
		switch p.Get("type").String() {
		case "text", "input_text", "output_text", "refusal":
			n += c.count(p.Get("text").String()) + c.count(p.Get("refusal").String())
		default:
			n += perMediaPart
		}
	}
	return n
}

// input counts a prompt or embeddings input: a string, an array of strings, an array of
// token ids, or an array of arrays of token ids.
func (c counter) input(v gjson.Result) int64 {
	if !v.IsArray() {
		return c.count(v.String())
	}
	var n int64
	for _, e := range v.Array() {
		switch {
		case e.IsArray():
			n += int64(len(e.Array()))
		case e.Type == gjson.Number:
			n++
		default:
			n += c.count(e.String())
		}
	}
	return n
}
