package providertest

import (
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

// body marshals an OpenAI request, with the client's route name as its model.
func body(fields map[string]any) string {
	m := map[string]any{"model": "client-route"}
	for k, v := range fields {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func userMsg(content any) map[string]any { return map[string]any{"role": "user", "content": content} }

// complete sends a chat request unstreamed and decodes the answer, checking the
// envelope and that Response.Usage matches the body's usage.
func (s *suite) complete(fields map[string]any, headers map[string]string) (*schema.ChatResponse, *schema.Response) {
	s.t.Helper()
	resp, err := s.provider(headers).Complete(s.ctx(), s.chatCall(body(fields), false, false))
	if err != nil {
		s.t.Fatalf("Complete: %v", err)
	}
	var cr schema.ChatResponse
	if err := json.Unmarshal(resp.Body, &cr); err != nil {
		s.t.Fatalf("the answer is not an OpenAI chat completion: %v: %s", err, resp.Body)
	}
	if cr.ID == "" || cr.Object != "chat.completion" || cr.Model == "" || cr.Created == 0 {
		s.t.Errorf("envelope: id %q object %q model %q created %d", cr.ID, cr.Object, cr.Model, cr.Created)
	}
	if len(cr.Choices) != 1 || cr.Choices[0].Index != 0 || cr.Choices[0].Message.Role != "assistant" {
		s.t.Fatalf("want one assistant choice at index 0: %s", resp.Body)
	}
	if cr.Usage == nil || !resp.HasUsage {
		s.t.Fatalf("no usage (HasUsage %v): %s", resp.HasUsage, resp.Body)
	}
	if got := wireOf(resp.Usage); !sameUsage(got, cr.Usage) {
		s.t.Errorf("Response.Usage %+v disagrees with the body's usage %s", resp.Usage, mustJSON(cr.Usage))
	}
	return &cr, resp
}

func content(cr *schema.ChatResponse) string {
	if c := cr.Choices[0].Message.Content; c != nil {
		return *c
	}
	return ""
}

// streamed is a stream read to its end.
type streamed struct {
	raw       [][]byte
	role      string
	content   string
	toolCalls []schema.ToolCall
	finish    string
	usage     *schema.UsageJSON // the usage chunk, nil when there was none
	final     schema.Usage      // Stream.Usage after io.EOF
	hasFinal  bool
}

// stream sends a chat request streamed and reads it to the end, checking OpenAI's
// framing on the way.
func (s *suite) stream(fields map[string]any, headers map[string]string, includeUsage bool) *streamed {
	s.t.Helper()
	fields["stream"] = true
	if includeUsage {
		fields["stream_options"] = map[string]any{"include_usage": true}
	}
	st, err := s.provider(headers).Stream(s.ctx(), s.chatCall(body(fields), true, includeUsage))
	if err != nil {
		s.t.Fatalf("Stream: %v", err)
	}
	defer st.Close()
	out := &streamed{}
	f := framing{t: s.t, out: out}
	for {
		b, err := st.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.t.Fatalf("Next after %d chunks: %v", len(out.raw), err)
		}
		f.chunk(append([]byte(nil), b...))
	}
	f.end(includeUsage)
	out.final, out.hasFinal = st.Usage()
	if !out.hasFinal {
		s.t.Error("Stream.Usage reports no usage after io.EOF")
	}
	if out.usage != nil && !sameUsage(wireOf(out.final), out.usage) {
		s.t.Errorf("Stream.Usage %+v disagrees with the usage chunk %s", out.final, mustJSON(out.usage))
	}
	return out
}

// framing checks a stream chunk by chunk against OpenAI's framing.
type framing struct {
	t        interface{ Errorf(string, ...any) }
	out      *streamed
	id       string
	finished bool
}

func (f *framing) chunk(b []byte) {
	out := f.out
	out.raw = append(out.raw, b)
	var c schema.ChatChunk
	if err := json.Unmarshal(b, &c); err != nil {
		f.t.Errorf("chunk %d is not a chat.completion.chunk: %v: %s", len(out.raw), err, b)
		return
	}
	if c.Object != "chat.completion.chunk" || c.ID == "" || (f.id != "" && c.ID != f.id) {
		f.t.Errorf("chunk %d envelope: object %q id %q (first id %q)", len(out.raw), c.Object, c.ID, f.id)
	}
	f.id = c.ID
	if out.usage != nil {
		f.t.Errorf("chunk after the usage chunk: %s", b)
	}
	if len(c.Choices) == 0 {
		if c.Usage == nil {
			f.t.Errorf("chunk without choices or usage: %s", b)
		}
		out.usage = c.Usage
		return
	}
	if len(out.raw) == 1 && c.Choices[0].Delta.Role != "assistant" {
		f.t.Errorf("first chunk has no delta.role assistant: %s", b)
	}
	for _, ch := range c.Choices {
		f.choice(ch, b)
	}
}

func (f *framing) choice(ch schema.ChunkChoice, b []byte) {
	out := f.out
	if ch.Index != 0 {
		f.t.Errorf("choice index %d: %s", ch.Index, b)
	}
	d := ch.Delta
	if f.finished && (d.Content != nil && *d.Content != "" || len(d.ToolCalls) > 0) {
		f.t.Errorf("content after finish_reason: %s", b)
	}
	if d.Role != "" {
		out.role = d.Role
	}
	if d.Content != nil {
		out.content += *d.Content
	}
	for _, tc := range d.ToolCalls {
		f.toolDelta(tc, b)
	}
	if ch.FinishReason != nil {
		if f.finished {
			f.t.Errorf("a second finish_reason: %s", b)
		}
		f.finished, out.finish = true, *ch.FinishReason
	}
}

// toolDelta folds one tool-call delta in, as OpenAI's SDKs do: a new index starts a
// call and must bring its id, type and name; later deltas append arguments.
func (f *framing) toolDelta(tc schema.ToolCall, b []byte) {
	out := f.out
	if tc.Index == nil {
		f.t.Errorf("tool-call delta without index: %s", b)
		return
	}
	i := *tc.Index
	switch {
	case i == len(out.toolCalls):
		if tc.ID == "" || tc.Type != "function" || tc.Function.Name == "" {
			f.t.Errorf("first delta of tool call %d lacks id, type function or name: %s", i, b)
		}
		out.toolCalls = append(out.toolCalls, schema.ToolCall{ID: tc.ID, Type: tc.Type,
			Function: schema.FunctionCall{Name: tc.Function.Name}})
	case i < 0 || i > len(out.toolCalls):
		f.t.Errorf("tool-call index %d out of order: %s", i, b)
		return
	case tc.ID != "" || tc.Function.Name != "":
		f.t.Errorf("tool call %d: id or name repeated in a later delta: %s", i, b)
	}
	out.toolCalls[i].Function.Arguments += tc.Function.Arguments
}

func (f *framing) end(includeUsage bool) {
	out := f.out
	switch {
	case len(out.raw) == 0:
		f.t.Errorf("empty stream")
	case !f.finished:
		f.t.Errorf("no chunk carried a finish_reason")
	case out.role != "assistant":
		f.t.Errorf("role %q, want assistant", out.role)
	}
	if includeUsage != (out.usage != nil) {
		f.t.Errorf("include_usage %v but usage chunk present %v", includeUsage, out.usage != nil)
	}
}

// wireOf renders a Usage the way the body should carry it.
func wireOf(u schema.Usage) *schema.UsageJSON { return u.WireUsage() }

// sameUsage compares two usage objects on every normalised field; missing details
// count as zero.
func sameUsage(a, b *schema.UsageJSON) bool {
	return flat(a) == flat(b)
}

func flat(u *schema.UsageJSON) schema.Usage {
	if u == nil {
		return schema.Usage{}
	}
	out := schema.Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	if d := u.PromptTokensDetails; d != nil {
		out.CachedTokens, out.CacheWriteTokens = d.CachedTokens, d.CacheWriteTokens
	}
	if d := u.CompletionTokensDetails; d != nil {
		out.ReasoningTokens = d.ReasoningTokens
	}
	return out
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// apiError asserts err is an *apierr.Error that does not reveal the key.
func (s *suite) apiError(err error) *apierr.Error {
	s.t.Helper()
	var e *apierr.Error
	if !errors.As(err, &e) {
		s.t.Fatalf("error %T (%v) is not an *apierr.Error", err, err)
	}
	key := s.h.Key.Reveal()
	for _, v := range []string{e.Error(), e.Message, e.Type, e.Code, e.Param} {
		if strings.Contains(v, key) {
			s.t.Fatalf("the error reveals the API key: %q", v)
		}
	}
	if e.Type == "" || e.Message == "" {
		s.t.Errorf("error lacks OpenAI's type or message: %+v", e)
	}
	return e
}
