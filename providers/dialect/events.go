package dialect

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers/openai"
	"github.com/tollgate-llm/tollgate/providers/sse"
	"github.com/tollgate-llm/tollgate/schema"
)

// Translator is what a dialect does with the events of an SSE stream.
type Translator interface {
	// Event translates one event's data into chunks it queues with Events.Enqueue.
	Event(data []byte) error
	// Complete is called at the clean end of the event stream. It reports whether the
	// answer was whole, and when it was queues what follows it (the usage chunk).
	Complete() bool
}

// malformedMapper is a Translator that reads more into a malformed stream than "it is
// malformed" (Gemini sends errors mid-stream as plain JSON lines).
type malformedMapper interface {
	Malformed() *apierr.Error
}

// Events is the read loop of an SSE stream translated into queued OpenAI chunks: the
// queue, the sticky error, the mapping of read failures to *apierr.Error and an
// idempotent Close. A dialect's stream embeds it and supplies the Translator.
type Events struct {
	ctx  context.Context
	body io.Closer
	r    *sse.Reader
	key  schema.Secret

	queue [][]byte // chunks ready to return, in order
	done  bool     // the upstream ended cleanly; only the queue remains
	err   error    // sticky

	closeOnce sync.Once
	closeErr  error
}

// Init readies q to read events from r, the SSE reader of body.
func (q *Events) Init(ctx context.Context, body io.Closer, r *sse.Reader, key schema.Secret) {
	q.ctx, q.body, q.r, q.key = ctx, body, r, key
}

// NextChunk returns the next chunk t translated, io.EOF after the last one, or an
// *apierr.Error, which every later call returns again.
func (q *Events) NextChunk(t Translator) ([]byte, error) {
	for {
		if len(q.queue) > 0 {
			b := q.queue[0]
			q.queue = q.queue[1:]
			return b, nil
		}
		switch {
		case q.err != nil:
			return nil, q.err
		case q.done:
			q.err = io.EOF
			continue
		}
		ev, err := q.r.Next()
		if err != nil {
			q.End(err, t)
			continue
		}
		if err := t.Event(ev.Data); err != nil {
			q.err = err
		}
	}
}

// End handles the end of the event stream with err: a clean end of a complete answer
// leaves only the queue; anything else is the stream's error.
func (q *Events) End(err error, t Translator) {
	switch {
	case q.ctx.Err() != nil:
		q.err = openai.ContextError(q.ctx)
	case errors.Is(err, io.EOF) && t.Complete():
		q.done = true
	case errors.Is(err, sse.ErrMalformed):
		if m, ok := t.(malformedMapper); ok {
			q.err = m.Malformed()
		} else {
			q.err = apierr.Upstream("upstream sent a malformed event stream").WithCause(err)
		}
	case errors.Is(err, sse.ErrTooLong):
		q.err = apierr.Upstream("upstream sent an event larger than the limit").WithCause(err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		q.err = CutShort("upstream closed the stream before the answer finished", io.ErrUnexpectedEOF)
	default:
		q.err = openai.TransportError(q.ctx, err, "upstream", q.key)
	}
}

// Enqueue queues c, rendered; a chunk that cannot be rendered is the stream's error.
func (q *Events) Enqueue(c schema.ChatChunk) {
	b, err := json.Marshal(c)
	if err != nil {
		q.err = apierr.From(err)
		return
	}
	q.queue = append(q.queue, b)
}

// EnqueueUsage queues the usage chunk (no choices) of the answer id.
func (q *Events) EnqueueUsage(id string, created int64, model string, u schema.Usage) {
	q.Enqueue(schema.ChatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: model,
		Choices: []schema.ChunkChoice{}, Usage: u.WireUsage()})
}

// Close releases the upstream response; closing early aborts the upstream request. It
// may be called from any goroutine, any number of times.
func (q *Events) Close() error {
	q.closeOnce.Do(func() { q.closeErr = q.body.Close() })
	return q.closeErr
}
