package bedrock

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers/dialect"
	"github.com/tollgate-llm/tollgate/providers/openai"
	"github.com/tollgate-llm/tollgate/schema"
)

// streamTranslator turns ConverseStream events into OpenAI chunks. It holds no I/O, so
// that it can be fuzzed and replayed from golden files.
type streamTranslator struct {
	env          envelope
	jsonMode     bool
	includeUsage bool
	key          schema.Secret

	started  bool         // the role chunk went out
	tools    map[int]int  // content block index → OpenAI tool-call index
	jsonBlks map[int]bool // content blocks that carry the JSON-mode answer
	jsonSeen bool
	stopped  bool // messageStop arrived
	done     bool // metadata arrived: nothing follows

	usage    schema.Usage
	hasUsage bool
}

func newTranslator(env envelope, jsonMode, includeUsage bool, key schema.Secret) *streamTranslator {
	return &streamTranslator{env: env, jsonMode: jsonMode, includeUsage: includeUsage, key: key,
		tools: map[int]int{}, jsonBlks: map[int]bool{}}
}

// event translates one frame into the chunks it produces, possibly none.
func (tr *streamTranslator) event(f frame) ([][]byte, error) {
	switch f.messageType {
	case "exception":
		return nil, streamException(f.exceptionType, f.payload, tr.key)
	case "error":
		e := apierr.Upstream("upstream stream error: " + sanitize(f.errorCode+": "+f.errorMessage, tr.key))
		e.Retryable = true
		return nil, e
	case "event":
	default:
		return nil, malformed("an event-stream frame of unknown message type")
	}
	if tr.done {
		return nil, nil
	}
	switch f.eventType {
	case "messageStart":
		return tr.open(nil), nil
	case "contentBlockStart":
		return tr.blockStart(f.payload)
	case "contentBlockDelta":
		return tr.blockDelta(f.payload)
	case "messageStop":
		return tr.stop(f.payload)
	case "metadata":
		return tr.metadata(f.payload)
	}
	// contentBlockStop needs nothing; unknown events are newer additions to skip.
	return nil, nil
}

func malformed(what string) *apierr.Error {
	return apierr.Upstream("upstream sent " + what)
}

// open prepends the role chunk to out when it has not gone out yet.
func (tr *streamTranslator) open(out [][]byte) [][]byte {
	if tr.started {
		return out
	}
	tr.started = true
	empty := ""
	role := tr.chunk(schema.Delta{Role: "assistant", Content: &empty}, nil)
	return append([][]byte{role}, out...)
}

func (tr *streamTranslator) blockStart(payload []byte) ([][]byte, error) {
	var ev contentBlockStart
	if json.Unmarshal(payload, &ev) != nil {
		return nil, malformed("a contentBlockStart event that is not JSON")
	}
	tu := ev.Start.ToolUse
	if tu == nil {
		return tr.open(nil), nil
	}
	if tr.jsonMode && tu.Name == jsonToolName {
		tr.jsonBlks[ev.ContentBlockIndex], tr.jsonSeen = true, true
		return tr.open(nil), nil
	}
	if _, dup := tr.tools[ev.ContentBlockIndex]; dup {
		return nil, malformed("two tool-use starts for one content block")
	}
	i := len(tr.tools)
	tr.tools[ev.ContentBlockIndex] = i
	call := schema.ToolCall{Index: &i, ID: tu.ToolUseID, Type: "function",
		Function: schema.FunctionCall{Name: tu.Name}}
	return tr.open([][]byte{tr.chunk(schema.Delta{ToolCalls: []schema.ToolCall{call}}, nil)}), nil
}

func (tr *streamTranslator) blockDelta(payload []byte) ([][]byte, error) {
	var ev contentBlockDelta
	if json.Unmarshal(payload, &ev) != nil {
		return nil, malformed("a contentBlockDelta event that is not JSON")
	}
	d := ev.Delta
	switch {
	case d.Text != nil && *d.Text != "":
		return tr.open([][]byte{tr.chunk(schema.Delta{Content: d.Text}, nil)}), nil
	case d.ToolUse != nil && tr.jsonBlks[ev.ContentBlockIndex]:
		if d.ToolUse.Input == "" {
			return nil, nil
		}
		return tr.open([][]byte{tr.chunk(schema.Delta{Content: &d.ToolUse.Input}, nil)}), nil
	case d.ToolUse != nil:
		i, ok := tr.tools[ev.ContentBlockIndex]
		if !ok {
			return nil, malformed("tool-use input for a content block that did not start a tool call")
		}
		if d.ToolUse.Input == "" {
			return nil, nil
		}
		call := schema.ToolCall{Index: &i, Function: schema.FunctionCall{Arguments: d.ToolUse.Input}}
		return tr.open([][]byte{tr.chunk(schema.Delta{ToolCalls: []schema.ToolCall{call}}, nil)}), nil
	}
	// Reasoning deltas have no place in OpenAI's chat chunks.
	return nil, nil
}

func (tr *streamTranslator) stop(payload []byte) ([][]byte, error) {
	var ev messageStop
	if json.Unmarshal(payload, &ev) != nil {
		return nil, malformed("a messageStop event that is not JSON")
	}
	if tr.stopped {
		return nil, malformed("a second messageStop event")
	}
	tr.stopped = true
	finish := finishReason(ev.StopReason)
	if tr.jsonSeen && len(tr.tools) == 0 && finish == "tool_calls" {
		finish = "stop"
	}
	return tr.open([][]byte{tr.chunk(schema.Delta{}, &finish)}), nil
}

func (tr *streamTranslator) metadata(payload []byte) ([][]byte, error) {
	var ev metadataEvent
	if json.Unmarshal(payload, &ev) != nil {
		return nil, malformed("a metadata event that is not JSON")
	}
	tr.done = true
	if ev.Usage == nil {
		return nil, nil
	}
	tr.usage, tr.hasUsage = ev.Usage.normalize(), true
	if !tr.includeUsage || !tr.stopped {
		return nil, nil
	}
	b, _ := json.Marshal(schema.ChatChunk{ID: tr.env.id, Object: "chat.completion.chunk", Created: tr.env.created,
		Model: tr.env.model, Choices: []schema.ChunkChoice{}, Usage: tr.usage.WireUsage()})
	return [][]byte{b}, nil
}

// chunk renders one chat.completion.chunk with a single choice.
func (tr *streamTranslator) chunk(d schema.Delta, finish *string) []byte {
	b, _ := json.Marshal(schema.ChatChunk{ID: tr.env.id, Object: "chat.completion.chunk", Created: tr.env.created,
		Model: tr.env.model, Choices: []schema.ChunkChoice{{Index: 0, Delta: d, Logprobs: jsonNull, FinishReason: finish}}})
	return b
}

// end is called at a clean end of the event stream: a stream that never reached
// messageStop was cut short.
func (tr *streamTranslator) end() error {
	if !tr.stopped {
		return dialect.CutShort("upstream closed the stream early", io.ErrUnexpectedEOF)
	}
	return nil
}

func newStream(ctx context.Context, resp *http.Response, tr *streamTranslator) *stream {
	return &stream{ctx: ctx, body: resp.Body, frames: newFrameReader(resp.Body), tr: tr}
}

// Next returns the next OpenAI chunk, io.EOF after the last one, or an error; once it
// returned an error it returns that error forever.
func (s *stream) Next() ([]byte, error) {
	for s.err == nil {
		if len(s.pending) > 0 {
			c := s.pending[0]
			s.pending = s.pending[1:]
			return c, nil
		}
		f, err := s.frames.next()
		if err != nil {
			s.err = s.readError(err)
			break
		}
		chunks, err := s.tr.event(f)
		if err != nil {
			s.err = err
			break
		}
		s.pending = chunks
	}
	return nil, s.err
}

// readError maps a failure to read the next frame.
func (s *stream) readError(err error) error {
	switch {
	case errors.Is(err, io.EOF):
		if e := s.tr.end(); e != nil {
			return e
		}
		return io.EOF
	case s.ctx.Err() != nil:
		return openai.ContextError(s.ctx)
	case errors.Is(err, errFrame):
		return apierr.Upstream("upstream sent a malformed event stream").WithCause(err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return dialect.CutShort("upstream closed the stream early", err)
	}
	// Bedrock URLs and read errors never hold the credential, which travels in headers.
	return dialect.CutShort("the upstream stream failed", err)
}

// Usage returns the usage of the metadata event, once it arrived.
func (s *stream) Usage() (schema.Usage, bool) { return s.tr.usage, s.tr.hasUsage }

// Close releases the upstream response; closing early aborts the upstream request.
func (s *stream) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.body.Close() })
	return s.closeErr
}
