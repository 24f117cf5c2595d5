package cohere

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

// Stream sends a streamed chat request. It returns once Cohere answered 2xx with an
// event stream.
func (c *Client) Stream(ctx context.Context, call *providers.Call) (schema.Stream, error) {
	if call.Request.Endpoint != schema.EndpointChat {
		return nil, dialect.Unsupported("cohere", call.Request.Endpoint)
	}
	body, err := chatBody(call, true)
	if err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, call, "/v2/chat", body, "text/event-stream")
	if err != nil {
		return nil, err
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		resp.Body.Close()
		return nil, apierr.Upstream("upstream did not answer with an event stream")
	}
	return c.newStream(ctx, resp.Body, call), nil
}

func (c *Client) newStream(ctx context.Context, body io.ReadCloser, call *providers.Call) *stream {
	s := &stream{key: call.Key, now: c.now, includeUsage: call.Request.IncludeUsage, model: call.Model, calls: map[int]int{}}
	s.Init(ctx, body, sse.NewReader(body, 0), call.Key)
	return s
}

// stream translates Cohere's v2 chat events to OpenAI chunks. Next and Usage are for
// one goroutine; Close may be called from any goroutine, any number of times.
type stream struct {
	dialect.Events
	key          schema.Secret
	now          func() time.Time
	includeUsage bool
	model        string

	id      string
	created int64
	started bool
	// calls maps Cohere's tool-call index to the OpenAI one.
	calls    map[int]int
	finished bool

	usage    schema.Usage
	hasUsage bool
}

// Next returns the next OpenAI chunk, io.EOF after the last one, or an *apierr.Error.
func (s *stream) Next() ([]byte, error) { return s.NextChunk(s) }

// Usage returns the usage message-end reported.
func (s *stream) Usage() (schema.Usage, bool) { return s.usage, s.hasUsage }

// Event translates one Cohere event into zero or more queued chunks; a data: [DONE]
// ends the stream.
func (s *stream) Event(data []byte) error {
	if bytes.Equal(data, []byte("[DONE]")) {
		s.End(io.EOF, s)
		return nil
	}
	var ev streamEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return apierr.Upstream("upstream sent an event that is not a Cohere stream event").WithCause(err)
	}
	if s.finished {
		return nil
	}
	switch ev.Type {
	case "message-start":
		s.open(ev.ID)
	case "content-start", "content-delta":
		s.open("")
		c, err := ev.content()
		if err != nil {
			return err
		}
		if c != nil && c.Text != nil && *c.Text != "" && c.Type != "thinking" {
			s.push(schema.Delta{Content: c.Text}, nil)
		}
	case "tool-call-start", "tool-call-delta":
		s.open("")
		return s.toolCall(&ev)
	case "message-end":
		s.open("")
		return s.messageEnd(&ev)
	case "":
		if ev.Message != "" {
			return errFinish(ev.Message, s.key)
		}
	}
	// tool-plan-delta, content-end, tool-call-end, citation-*, debug: nothing to show.
	return nil
}

// content returns a content event's delta.message.content, nil when there is none.
func (ev *streamEvent) content() (*eventContent, error) {
	if ev.Delta == nil || ev.Delta.Message == nil || len(ev.Delta.Message.Content) == 0 {
		return nil, nil
	}
	var c eventContent
	if err := json.Unmarshal(ev.Delta.Message.Content, &c); err != nil {
		return nil, apierr.Upstream("upstream sent a content event without content").WithCause(err)
	}
	return &c, nil
}

// open sends the role chunk once, taking the answer's id from message-start.
func (s *stream) open(id string) {
	if s.started {
		return
	}
	s.started = true
	s.id, s.created = "chatcmpl-"+id, s.now().Unix()
	empty := ""
	s.push(schema.Delta{Role: "assistant", Content: &empty}, nil)
}

// toolCall translates tool-call-start (id, name, first arguments) and
// tool-call-delta (more arguments).
func (s *stream) toolCall(ev *streamEvent) error {
	if ev.Delta == nil || ev.Delta.Message == nil || len(ev.Delta.Message.ToolCalls) == 0 {
		return nil
	}
	var tc eventToolCall
	if err := json.Unmarshal(ev.Delta.Message.ToolCalls, &tc); err != nil {
		return apierr.Upstream("upstream sent a tool-call event without a tool call").WithCause(err)
	}
	cohereIdx := 0
	if ev.Index != nil {
		cohereIdx = *ev.Index
	}
	out := schema.ToolCall{}
	if ev.Type == "tool-call-start" {
		k := len(s.calls)
		s.calls[cohereIdx] = k
		out.Index, out.ID, out.Type = &k, tc.ID, "function"
	} else {
		k, ok := s.calls[cohereIdx]
		if !ok {
			return nil
		}
		out.Index = &k
	}
	if tc.Function != nil {
		out.Function = schema.FunctionCall{Name: tc.Function.Name, Arguments: tc.Function.Arguments}
	}
	s.push(schema.Delta{ToolCalls: []schema.ToolCall{out}}, nil)
	return nil
}

// messageEnd takes the usage and finish reason; ERROR ends the stream with an error.
func (s *stream) messageEnd(ev *streamEvent) error {
	s.finished = true
	if ev.Delta == nil {
		return apierr.Upstream("upstream ended the stream without a finish reason")
	}
	if u, ok := usageOf(ev.Delta.Usage); ok {
		s.usage, s.hasUsage = u, true
	}
	if ev.Delta.FinishReason == "ERROR" {
		return errFinish(ev.Delta.Error, s.key)
	}
	reason := finishReason(ev.Delta.FinishReason)
	if len(s.calls) > 0 && reason == "stop" {
		reason = "tool_calls"
	}
	s.push(schema.Delta{}, &reason)
	return nil
}

func (s *stream) push(d schema.Delta, finish *string) {
	s.Enqueue(schema.ChatChunk{ID: s.id, Object: "chat.completion.chunk", Created: s.created, Model: s.model,
		Choices: []schema.ChunkChoice{{Delta: d, FinishReason: finish}}})
}

// Complete reports, at the end of the event stream, whether message-end arrived, and
// then queues the usage chunk (when asked for); before it, the stream was cut short.
func (s *stream) Complete() bool {
	if !s.finished {
		return false
	}
	if s.includeUsage && s.hasUsage {
		s.EnqueueUsage(s.id, s.created, s.model, s.usage)
	}
	return true
}
