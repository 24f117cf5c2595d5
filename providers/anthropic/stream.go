package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"

	"github.com/tidwall/gjson"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/dialect"
	"github.com/tollgate-llm/tollgate/providers/openai"
	"github.com/tollgate-llm/tollgate/providers/sse"
	"github.com/tollgate-llm/tollgate/schema"
)

// stream translates an Anthropic event stream into OpenAI chunks, one per Next:
//
//	message_start        the first chunk, delta.role "assistant"; input usage noted
//	content_block_start  text: its text if any; tool_use: a tool-call delta with the
//	                     call's index (counted over tool calls only), id, type and name
//	content_block_delta  text_delta: content; input_json_delta: an arguments fragment;
//	                     thinking, signature and citation deltas: nothing (not the answer)
//	content_block_stop   nothing
//	message_delta        the chunk with finish_reason; its usage is cumulative and
//	                     replaces the counts so far, never adds to them
//	message_stop         the usage chunk (choices []) when the client asked for it, then
//	                     io.EOF
//	ping, unknown types  nothing
//	error                an *apierr.Error (overloaded_error: a retryable 529)
//
// A stream that ends before message_stop is an error, never a clean end.
type stream struct {
	ctx          context.Context
	body         io.ReadCloser
	events       *sse.Reader
	key          schema.Secret
	includeUsage bool
	created      int64

	id, model string
	started   bool
	usage     usage
	tools     map[int]int // content block index → OpenAI tool-call index
	finished  bool        // the finish_reason chunk went out
	done      bool        // message_stop arrived
	err       error

	ev        streamEvent
	prefix    []byte // the chunk envelope up to "choices":[, set by message_start
	buf       []byte // the last chunk returned by the fast path
	slow      bool   // take the general path for every event (tests compare the two)
	closeOnce sync.Once
	closeErr  error
}

func newStream(ctx context.Context, body io.ReadCloser, call *providers.Call, created int64) *stream {
	return &stream{
		ctx: ctx, body: body, events: sse.NewReader(body, maxEventBytes), key: call.Key,
		includeUsage: call.Request.IncludeUsage, created: created, tools: map[int]int{},
	}
}

// Next returns the next OpenAI chunk, io.EOF after the last, or an error, which every
// later call returns again.
func (s *stream) Next() ([]byte, error) {
	for s.err == nil {
		if s.done {
			s.err = io.EOF
			break
		}
		e, err := s.events.Next()
		if err != nil {
			s.err = s.readError(err)
			break
		}
		if !gjson.ValidBytes(e.Data) {
			s.err = apierr.Upstream("upstream sent a malformed stream event")
			break
		}
		if chunk, ok := s.fastDelta(e.Data); ok && !s.slow {
			return chunk, nil
		}
		s.ev = streamEvent{}
		if err := json.Unmarshal(e.Data, &s.ev); err != nil {
			s.err = apierr.Upstream("upstream sent a malformed stream event").WithCause(err)
			break
		}
		chunk, err := s.translate()
		if err != nil {
			s.err = err
			break
		}
		if chunk != nil {
			return chunk, nil
		}
	}
	return nil, s.err
}

// Usage returns the usage reported so far, normalised; it is final after io.EOF.
func (s *stream) Usage() (schema.Usage, bool) { return s.usage.normalise(), s.started }

// Close releases the upstream connection; it is safe to call more than once.
func (s *stream) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.body.Close() })
	return s.closeErr
}

// translate turns the current event into a chunk, or nil when it makes none.
func (s *stream) translate() ([]byte, error) {
	ev := &s.ev
	switch ev.Type {
	case "message_start":
		if ev.Message == nil || s.started {
			return nil, protocolError("a second or empty message_start")
		}
		s.started, s.id, s.model = true, ev.Message.ID, ev.Message.Model
		s.usage.merge(ev.Message.Usage)
		s.prefix = chunkPrefix(s.id, s.model, s.created)
		empty := ""
		return s.chunk(schema.Delta{Role: "assistant", Content: &empty}, nil)
	case "error":
		if ev.Error == nil {
			return nil, protocolError("an error event without an error")
		}
		return nil, eventError(ev.Error, s.key)
	case "ping":
		return nil, nil
	case "message_stop":
		if !s.finished {
			return nil, protocolError("message_stop before message_delta")
		}
		s.done = true
		if !s.includeUsage {
			return nil, nil
		}
		return s.marshal(schema.ChatChunk{Choices: []schema.ChunkChoice{}, Usage: s.usage.normalise().WireUsage()})
	}
	if !s.started {
		return nil, protocolError("an event before message_start")
	}
	switch ev.Type {
	case "content_block_start":
		return s.blockStart()
	case "content_block_delta":
		return s.blockDelta()
	case "message_delta":
		s.usage.merge(ev.Usage)
		if ev.Delta == nil || ev.Delta.StopReason == nil || s.finished {
			return nil, nil
		}
		s.finished = true
		reason := finishReason(*ev.Delta.StopReason)
		return s.chunk(schema.Delta{}, &reason)
	}
	return nil, nil // content_block_stop and event types newer than this code
}

func (s *stream) blockStart() ([]byte, error) {
	b := s.ev.ContentBlock
	if b == nil {
		return nil, protocolError("content_block_start without a content block")
	}
	switch b.Type {
	case "text":
		if b.Text == nil || *b.Text == "" {
			return nil, nil
		}
		return s.chunk(schema.Delta{Content: b.Text}, nil)
	case "tool_use":
		k := len(s.tools)
		s.tools[s.ev.Index] = k
		return s.chunk(schema.Delta{ToolCalls: []schema.ToolCall{{Index: &k, ID: b.ID, Type: "function",
			Function: schema.FunctionCall{Name: b.Name}}}}, nil)
	}
	return nil, nil // thinking, redacted_thinking and server tool blocks are not the answer
}

func (s *stream) blockDelta() ([]byte, error) {
	d := s.ev.Delta
	if d == nil {
		return nil, protocolError("content_block_delta without a delta")
	}
	switch d.Type {
	case "text_delta":
		if d.Text == "" {
			return nil, nil
		}
		return s.chunk(schema.Delta{Content: &d.Text}, nil)
	case "input_json_delta":
		k, ok := s.tools[s.ev.Index]
		if !ok {
			return nil, protocolError("input_json_delta outside a tool_use block")
		}
		if d.PartialJSON == "" {
			return nil, nil
		}
		return s.chunk(schema.Delta{ToolCalls: []schema.ToolCall{{Index: &k,
			Function: schema.FunctionCall{Arguments: d.PartialJSON}}}}, nil)
	}
	return nil, nil
}

// chunk renders one choice's delta as a chat.completion.chunk.
func (s *stream) chunk(d schema.Delta, finish *string) ([]byte, error) {
	return s.marshal(schema.ChatChunk{Choices: []schema.ChunkChoice{{Index: 0, Delta: d, FinishReason: finish}}})
}

func (s *stream) marshal(c schema.ChatChunk) ([]byte, error) {
	c.ID, c.Object, c.Created, c.Model = s.id, "chat.completion.chunk", s.created, s.model
	b, err := json.Marshal(c)
	if err != nil {
		return nil, apierr.From(err)
	}
	return b, nil
}

// readError maps a failure to read the next event.
func (s *stream) readError(err error) error {
	switch {
	case s.ctx.Err() != nil:
		return openai.ContextError(s.ctx)
	case errors.Is(err, sse.ErrTooLong):
		return apierr.Upstream("upstream sent an event larger than 16 MiB").WithCause(err)
	case errors.Is(err, sse.ErrMalformed):
		return apierr.Upstream("upstream sent a malformed event stream").WithCause(err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return dialect.CutShort("upstream closed the stream early", errNoMessageStop)
	}
	return dialect.CutShort("the upstream stream failed", err)
}

// errNoMessageStop is the cause of a stream that ended before message_stop.
var errNoMessageStop = errors.New("stream ended before message_stop")

func protocolError(what string) *apierr.Error {
	return apierr.Upstream("upstream stream is out of order: " + what)
}
