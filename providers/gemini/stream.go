package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/dialect"
	"github.com/tollgate-llm/tollgate/providers/sse"
	"github.com/tollgate-llm/tollgate/schema"
)

// Stream sends a streamed chat request (streamGenerateContent?alt=sse). It returns
// once Gemini answered 2xx with an event stream.
func (c *Client) Stream(ctx context.Context, call *providers.Call) (schema.Stream, error) {
	if call.Request.Endpoint != schema.EndpointChat {
		return nil, dialect.Unsupported("gemini", call.Request.Endpoint)
	}
	body, err := c.chatBody(call)
	if err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, call, "streamGenerateContent", "alt=sse", body)
	if err != nil {
		return nil, err
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		defer resp.Body.Close()
		raw := dialect.ErrorBody(resp.Body)
		if e := embeddedError(raw, call.Key, c.now()); e != nil {
			return nil, e
		}
		return nil, apierr.Upstream("upstream did not answer with an event stream")
	}
	return c.newStream(ctx, resp.Body, call), nil
}

func (c *Client) newStream(ctx context.Context, body io.ReadCloser, call *providers.Call) *stream {
	t := &tail{r: body}
	s := &stream{
		body: body, tail: t, key: call.Key, now: c.now,
		includeUsage: call.Request.IncludeUsage, model: call.Model, newID: c.newID,
		started: map[int]bool{}, finished: map[int]bool{}, calls: map[int]int{},
	}
	s.Init(ctx, body, sse.NewReader(t, 0), call.Key)
	return s
}

// stream translates Gemini's SSE answer to OpenAI chunks. Next and Usage are for one
// goroutine; Close may be called from any goroutine, any number of times.
type stream struct {
	dialect.Events
	body         io.ReadCloser
	tail         *tail
	key          schema.Secret
	now          func() time.Time
	includeUsage bool
	model        string
	newID        func() string

	id, responseID string
	created        int64
	// started, finished and calls are per candidate index: whether its role chunk was
	// sent, whether its finish chunk was, and how many function calls it made.
	started, finished map[int]bool
	calls             map[int]int

	usage    schema.Usage
	hasUsage bool
}

// Next returns the next OpenAI chunk, io.EOF after the last one (and after the usage
// chunk when the client asked for usage), or an *apierr.Error.
func (s *stream) Next() ([]byte, error) { return s.NextChunk(s) }

// Usage returns the last usage Gemini reported.
func (s *stream) Usage() (schema.Usage, bool) { return s.usage, s.hasUsage }

// Event translates one Gemini event into zero or more queued chunks.
func (s *stream) Event(data []byte) error {
	if bytes.Equal(data, []byte("[DONE]")) {
		return nil
	}
	if bytes.Contains(data, []byte(`"error"`)) {
		if e := embeddedError(data, s.key, s.now()); e != nil {
			return e
		}
	}
	var r generateResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return apierr.Upstream("upstream sent an event that is not a Gemini answer").WithCause(err)
	}
	if s.id == "" {
		s.begin(&r)
	}
	if r.UsageMetadata != nil {
		s.usage, s.hasUsage = usageOf(r.UsageMetadata), true
	}
	if len(r.Candidates) == 0 && r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "" && !s.finished[0] {
		s.open(0)
		s.finish(0, "content_filter")
	}
	for pos := range r.Candidates {
		s.candidate(&r.Candidates[pos], pos)
	}
	return nil
}

// begin takes the answer's id, time and model from its first event.
func (s *stream) begin(r *generateResponse) {
	s.responseID = r.ResponseID
	if s.responseID == "" {
		s.responseID = s.newID()
	}
	s.id, s.created = "chatcmpl-"+s.responseID, s.now().Unix()
	if r.ModelVersion != "" {
		s.model = r.ModelVersion
	}
}

func (s *stream) candidate(c *candidate, pos int) {
	idx := candidateIndex(c, pos)
	if s.finished[idx] {
		return
	}
	s.open(idx)
	if c.Content != nil {
		var text bytes.Buffer
		for i := range c.Content.Parts {
			p := &c.Content.Parts[i]
			switch {
			case p.FunctionCall != nil:
				s.flushText(idx, &text)
				k := s.calls[idx]
				s.calls[idx] = k + 1
				tc := toolCall(p, s.responseID, idx, k)
				tc.Index = &k
				s.push(idx, schema.Delta{ToolCalls: []schema.ToolCall{tc}}, nil)
			case p.Text != nil && !p.Thought:
				text.WriteString(*p.Text)
			}
		}
		s.flushText(idx, &text)
	}
	if c.FinishReason != "" {
		s.finish(idx, finishReason(c.FinishReason, s.calls[idx] > 0))
	}
}

// open sends a candidate's first chunk, with the role, once.
func (s *stream) open(idx int) {
	if s.started[idx] {
		return
	}
	s.started[idx] = true
	empty := ""
	s.push(idx, schema.Delta{Role: "assistant", Content: &empty}, nil)
}

func (s *stream) flushText(idx int, text *bytes.Buffer) {
	if text.Len() == 0 {
		return
	}
	t := text.String()
	text.Reset()
	s.push(idx, schema.Delta{Content: &t}, nil)
}

func (s *stream) finish(idx int, reason string) {
	s.finished[idx] = true
	s.push(idx, schema.Delta{}, &reason)
}

// push queues one chunk with one choice.
func (s *stream) push(idx int, d schema.Delta, finish *string) {
	s.Enqueue(schema.ChatChunk{ID: s.id, Object: "chat.completion.chunk", Created: s.created, Model: s.model,
		Choices: []schema.ChunkChoice{{Index: idx, Delta: d, FinishReason: finish}}})
}

// Complete reports, at the end of the event stream, whether every candidate finished,
// and then queues the usage chunk (when asked for).
func (s *stream) Complete() bool {
	if len(s.started) == 0 || len(s.finished) != len(s.started) {
		return false
	}
	if s.includeUsage && s.hasUsage {
		s.EnqueueUsage(s.id, s.created, s.model, s.usage)
	}
	return true
}

// Malformed reads an error Gemini sent after the stream began as plain JSON lines
// rather than a data: event (the Google SDKs brace-count such lines). It returns that
// error, or a 502 for a stream that is simply malformed.
func (s *stream) Malformed() *apierr.Error {
	rest := dialect.ErrorBody(s.body)
	text := append(s.tail.buf, rest...)
	for len(text) > 0 {
		line, next, _ := bytes.Cut(text, []byte("\n"))
		if !isSSELine(bytes.TrimSpace(line)) {
			var eb errorBody
			if json.NewDecoder(bytes.NewReader(text)).Decode(&eb) == nil && eb.Error != nil {
				raw, _ := json.Marshal(eb) // a decoded value always marshals
				return embeddedError(raw, s.key, s.now())
			}
			break
		}
		text = next
	}
	return apierr.Upstream("upstream sent a malformed event stream").WithCause(sse.ErrMalformed)
}

func isSSELine(line []byte) bool {
	if len(line) == 0 || line[0] == ':' {
		return true
	}
	for _, f := range []string{"data:", "event:", "id:", "retry:"} {
		if bytes.HasPrefix(line, []byte(f)) {
			return true
		}
	}
	return false
}

// maxTail is how much of the latest stream bytes tail keeps, enough to hold the
// bufio buffer the SSE reader fills ahead of the line it parses.
const maxTail = 256 << 10

// tail is a reader that remembers the last bytes read through it, cut at a line start.
type tail struct {
	r   io.Reader
	buf []byte
}

func (t *tail) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	if len(t.buf) > 2*maxTail {
		keep := t.buf[len(t.buf)-maxTail:]
		if i := bytes.IndexByte(keep, '\n'); i >= 0 {
			keep = keep[i+1:]
		}
		t.buf = append(t.buf[:0], keep...)
	}
	return n, err
}
