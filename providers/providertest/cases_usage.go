package providertest

import (
	"strconv"

	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/schema"
)

// The token knobs the usage cases send.
const (
	knobCached    = 100
	knobWrite     = 20
	knobReasoning = 5
)

func usageKnobs() map[string]string {
	return map[string]string{
		"X-Fake-Cached-Tokens":      strconv.Itoa(knobCached),
		"X-Fake-Cache-Write-Tokens": strconv.Itoa(knobWrite),
		"X-Fake-Reasoning-Tokens":   strconv.Itoa(knobReasoning),
	}
}

// reportsCacheWrites and reportsReasoning say which dialects' usage has a field for
// cache writes and for reasoning tokens; a dialect without one folds the tokens into
// its prompt or completion count, and the normalised detail is then zero. A dialect
// missing from a table may do either.
var (
	reportsCacheWrites = map[string]bool{"anthropic": true, "bedrock": true,
		"openai": false, "azure": false, "gemini": false, "cohere": false}
	reportsReasoning = map[string]bool{"openai": true, "azure": true, "anthropic": true, "gemini": true,
		"bedrock": false, "cohere": false}
)

// usage: cache reads, cache writes and reasoning tokens, normalised to OpenAI's usage:
// prompt_tokens includes reads and writes, completion_tokens includes reasoning.
func (s *suite) usage() {
	fields := func() map[string]any { return map[string]any{"messages": []any{userMsg(userText)}} }
	base, _ := s.complete(fields(), nil)
	if d := flat(base.Usage); d.CachedTokens != 0 || d.CacheWriteTokens != 0 || d.ReasoningTokens != 0 {
		s.t.Errorf("without knobs the usage has cache or reasoning tokens: %s", mustJSON(base.Usage))
	}
	b := flat(base.Usage)
	cr, resp := s.complete(fields(), usageKnobs())
	s.checkUsage("unstreamed", flat(cr.Usage), b)
	if resp.Usage.CachedTokens != knobCached {
		s.t.Errorf("Response.Usage.CachedTokens = %d, want %d", resp.Usage.CachedTokens, knobCached)
	}
	st := s.stream(fields(), usageKnobs(), true)
	// Reasoning is counted, never shown: the visible answer is the same as without it.
	if content(cr) != fakellm.Text(chunks) || st.content != fakellm.Text(chunks) {
		s.t.Errorf("with reasoning the answer is %q, streamed %q; want %q", content(cr), st.content, fakellm.Text(chunks))
	}
	s.checkUsage("usage chunk", flat(st.usage), b)
	s.checkUsage("Stream.Usage", st.final, b)
}

func (s *suite) checkUsage(what string, got, base schema.Usage) {
	s.t.Helper()
	want := schema.Usage{
		PromptTokens: base.PromptTokens + knobCached + knobWrite, CachedTokens: knobCached,
		CompletionTokens: base.CompletionTokens + knobReasoning,
	}
	want.TotalTokens = want.PromptTokens + want.CompletionTokens
	write, okW := reportsCacheWrites[s.h.Name]
	reason, okR := reportsReasoning[s.h.Name]
	if write || (!okW && got.CacheWriteTokens != 0) {
		want.CacheWriteTokens = knobWrite
	}
	if reason || (!okR && got.ReasoningTokens != 0) {
		want.ReasoningTokens = knobReasoning
	}
	if got.TotalTokens == 0 {
		// schema.Usage leaves TotalTokens to the wire form.
		got.TotalTokens = got.PromptTokens + got.CompletionTokens
	}
	if got != want {
		s.t.Errorf("%s usage %+v, want %+v (base %+v)", what, got, want, base)
	}
}

// usageStreamEqual: a streamed request reports the same usage as the same request
// unstreamed, with cached tokens present, whether or not the client asked for the usage
// chunk. Equal usage means equal cost; billing prices usage alone.
func (s *suite) usageStreamEqual() {
	fields := func() map[string]any { return map[string]any{"messages": []any{userMsg(userText)}} }
	cr, resp := s.complete(fields(), usageKnobs())
	if resp.Usage.CachedTokens == 0 {
		s.t.Fatalf("the unstreamed usage has no cached tokens: %s", mustJSON(cr.Usage))
	}
	want := flat(resp.Usage.WireUsage())
	for _, include := range []bool{true, false} {
		st := s.stream(fields(), usageKnobs(), include)
		if got := flat(st.final.WireUsage()); got != want {
			s.t.Errorf("include_usage %v: streamed usage %+v, unstreamed %+v", include, got, want)
		}
		if include && flat(st.usage) != want {
			s.t.Errorf("usage chunk %s, unstreamed %+v", mustJSON(st.usage), want)
		}
	}
}
