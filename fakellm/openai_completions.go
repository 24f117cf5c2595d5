package fakellm

import (
	"encoding/json"
	"strings"
	"time"
)

// completionsDefaultMaxTokens is the legacy completions API's default max_tokens.
const completionsDefaultMaxTokens = 16

// completionRequest is the part of a legacy completion request the fake reads.
type completionRequest struct {
	Model         string          `json:"model"`
	Prompt        json.RawMessage `json:"prompt"`
	Stream        bool            `json:"stream"`
	StreamOptions *streamOptions  `json:"stream_options"`
	MaxTokens     *int            `json:"max_tokens"`
	N             *int            `json:"n"`
}

type completionResponse struct {
	ID                string          `json:"id"`
	Object            string          `json:"object"`
	Created           int64           `json:"created"`
	Model             string          `json:"model"`
	SystemFingerprint string          `json:"system_fingerprint"`
	Choices           []any           `json:"choices"`
	Usage             json.RawMessage `json:"usage,omitempty"`
}

type completionChoice struct {
	Text         string  `json:"text"`
	Index        int     `json:"index"`
	Logprobs     any     `json:"logprobs"`
	FinishReason *string `json:"finish_reason"`
}

// inputs reads an OpenAI prompt or embeddings input: a string, strings, tokens, or
// token arrays. It returns one canonical text and one token count per input, and false
// when raw is none of those.
func inputs(raw json.RawMessage) (texts []string, tokens []int, ok bool) {
	// A failed Unmarshal may have filled part of its target, so each shape gets its own.
	var one string
	var many []string
	var toks []int
	var tokLists [][]int
	switch {
	case json.Unmarshal(raw, &one) == nil:
		many = []string{one}
	case json.Unmarshal(raw, &many) == nil:
	case json.Unmarshal(raw, &toks) == nil:
		many, tokLists = nil, [][]int{toks}
	case json.Unmarshal(raw, &tokLists) == nil:
		many = nil
	default:
		return nil, nil, false
	}
	for _, s := range many {
		texts, tokens = append(texts, s), append(tokens, countWords(s))
	}
	for _, l := range tokLists {
		b, _ := json.Marshal(l)
		texts, tokens = append(texts, "tokens:"+string(b)), append(tokens, len(l))
	}
	return texts, tokens, len(texts) > 0
}

func handleCompletions(c *call) {
	var req completionRequest
	if !decodeBody(c, &req) || !checkModel(c, req.Model) {
		return
	}
	if len(req.Prompt) == 0 || string(req.Prompt) == "null" {
		c.fail(errBadRequest("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter"))
		return
	}
	_, counts, ok := inputs(req.Prompt)
	if !ok {
		c.fail(errBadRequest("Invalid type for 'prompt': expected a string, an array of strings, or tokens.", "prompt", "invalid_type"))
		return
	}
	if !checkLimit(c, "max_tokens", req.MaxTokens) || !checkStreamOptions(c, req.Stream, req.StreamOptions) {
		return
	}
	limit := req.MaxTokens
	if limit == nil {
		limit = new(completionsDefaultMaxTokens)
	}
	a := completionAnswer{finish: "stop", choices: len(counts) * choiceCount(req.N)}
	count, cut := answerLength(c.k.chunks, limit)
	if cut {
		a.finish = "length"
	}
	prompt := 0
	for _, n := range counts {
		prompt += n
	}
	a.words, a.usage = pieces(count), newUsage(prompt, count*a.choices, false)
	a.base = completionResponse{
		ID: c.s.newID("cmpl-", 29), Object: "text_completion", Created: time.Now().Unix(), Model: req.Model,
		SystemFingerprint: systemFingerprint,
	}
	c.charge(a.usage.TotalTokens)
	if req.Stream {
		c.stream(a.events(wantsUsage(c, req.StreamOptions)), openAIErrorEvent(c.k.errorStatus))
		return
	}
	c.respond(a.response(), c.generationTime(count))
}

// completionAnswer is what the fake says to one legacy completion request.
type completionAnswer struct {
	base    completionResponse // the envelope, without choices and usage
	choices int
	words   []string
	finish  string
	usage   *openAIUsage
}

func (a *completionAnswer) wrap(choices []any, usage json.RawMessage) any {
	resp := a.base
	resp.Choices, resp.Usage = choices, usage
	return resp
}

func (a *completionAnswer) response() any {
	all := make([]any, a.choices)
	for i := range all {
		all[i] = completionChoice{Text: strings.Join(a.words, ""), Index: i, FinishReason: &a.finish}
	}
	u, _ := json.Marshal(a.usage)
	return a.wrap(all, u)
}

func (a *completionAnswer) events(withUsage bool) []sseEvent {
	st := openAIStream{
		n: a.choices, steps: len(a.words), usage: a.usage, withUsage: withUsage,
		step:   func(i, s int) any { return completionChoice{Text: a.words[s], Index: i} },
		finish: func(i int) any { return completionChoice{Index: i, FinishReason: &a.finish} },
		wrap:   a.wrap,
	}
	return st.events()
}
