package router

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/tollgate-llm/tollgate/schema"
)

// routedStream is an upstream stream whose first chunk is already read. It bounds the
// silence between chunks, and reports the stream's outcome to the target's health when
// it ends.
type routedStream struct {
	r       *Router
	c       *call
	a       *attempt
	s       schema.Stream
	first   []byte
	pending bool // first has not been returned yet
	eof     bool // the upstream ended before any chunk
	idle    time.Duration
	timer   *time.Timer
	cancel  context.CancelCauseFunc
	err     error
	close   sync.Once
}

var _ schema.Stream = (*routedStream)(nil)

func (r *Router) newRoutedStream(c *call, a *attempt, p peeked, cancel context.CancelCauseFunc) *routedStream {
	idle := r.opts.StreamIdle
	if d := a.target.Deployment.Timeout; d > 0 {
		idle = min(idle, d)
	}
	s := &routedStream{r: r, c: c, a: a, s: p.s, first: p.first, pending: !p.eof, eof: p.eof,
		idle: idle, cancel: cancel}
	s.timer = time.AfterFunc(time.Hour, func() { a.cancel(errIdle) })
	s.timer.Stop()
	return s
}

// Next returns the first chunk, then the upstream's next ones. A stream silent for
// longer than the idle timeout ends with a 504 upstream_timeout error.
func (s *routedStream) Next() ([]byte, error) {
	if s.pending {
		s.pending = false
		return s.first, nil
	}
	if s.err != nil {
		return nil, s.err
	}
	if s.eof {
		s.end(io.EOF)
		return nil, s.err
	}
	s.timer.Reset(s.idle)
	b, err := s.s.Next()
	s.timer.Stop()
	if err != nil {
		s.end(err)
		return nil, s.err
	}
	return b, nil
}

// end records how the stream ended.
func (s *routedStream) end(err error) {
	if err == io.EOF {
		s.a.finish(s.r, s.c.ctx, vSuccess, nil)
		s.err = io.EOF
		return
	}
	v, e := classify(s.c.ctx, s.a, err)
	s.a.finish(s.r, s.c.ctx, v, e)
	s.err = e
}

// Usage returns the upstream's usage so far.
func (s *routedStream) Usage() (schema.Usage, bool) { return s.s.Usage() }

// Close releases the upstream. A stream closed before its end (the client left) is not
// counted against the target.
func (s *routedStream) Close() error {
	var err error
	s.close.Do(func() {
		s.timer.Stop()
		err = s.s.Close()
		s.a.finish(s.r, s.c.ctx, vCancel, nil)
		s.cancel(nil)
	})
	return err
}
