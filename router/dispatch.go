package router

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

// Meta says where a request was served.
type Meta struct {
	Provider      string
	UpstreamModel string
	// Attempts counts the attempts sent upstream, across fallbacks.
	Attempts int
}

// Backoff tunes the wait before a retry on the same target and key: full jitter over
// Base·2^(n-1), at most Max. Zero fields mean 50ms and 2s.
type Backoff struct {
	Base time.Duration
	Max  time.Duration
}

func (b Backoff) withDefaults() Backoff {
	if b.Base <= 0 {
		b.Base = 50 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 2 * time.Second
	}
	return b
}

// Complete serves a non-streamed request.
func (r *Router) Complete(ctx context.Context, req *schema.Request) (*schema.Response, Meta, error) {
	rt, ok := r.Lookup(req.Model)
	if !ok {
		return nil, Meta{}, apierr.ModelNotFound(req.Model)
	}
	d := r.timeout(rt)
	dctx, cancel := context.WithTimeoutCause(ctx, d, errDeadline)
	defer cancel()
	c := r.newCall(dctx, d)
	var resp *schema.Response
	a, err := c.run(rt, func(a *attempt) (err error) {
		resp, err = a.target.Deployment.Provider.Complete(a.ctx, a.providerCall(req))
		if err == nil && !a.firstByte() {
			return context.Cause(a.ctx)
		}
		return err
	})
	if err != nil {
		return nil, c.meta, err
	}
	a.finish(r, ctx, vSuccess, nil)
	return resp, c.meta, nil
}

// Stream serves a streamed request. It returns once an upstream delivered its first
// chunk: a failure before it is a failed attempt, and the next one is tried. The model's
// timeout bounds the attempts until then; after it the stream runs under ctx, with an
// idle timeout between chunks.
func (r *Router) Stream(ctx context.Context, req *schema.Request) (schema.Stream, Meta, error) {
	rt, ok := r.Lookup(req.Model)
	if !ok {
		return nil, Meta{}, apierr.ModelNotFound(req.Model)
	}
	d := r.timeout(rt)
	sctx, cancel := context.WithCancelCause(ctx)
	deadline := time.AfterFunc(d, func() { cancel(errDeadline) })
	c := r.newCall(sctx, d)
	var p peeked
	a, err := c.run(rt, func(a *attempt) error { return p.open(a, req) })
	if err == nil && !deadline.Stop() { // the deadline fired as the first chunk arrived
		p.s.Close()
		e := apierr.Timeout("the upstream did not start answering before the model's timeout")
		a.finish(r, sctx, vDeadline, e)
		err = e
	}
	if err != nil {
		deadline.Stop()
		cancel(nil)
		return nil, c.meta, err
	}
	return r.newRoutedStream(c, a, p, cancel), c.meta, nil
}

// peeked is an opened upstream stream and its first chunk.
type peeked struct {
	s     schema.Stream
	first []byte
	eof   bool
}

// open opens the stream and reads its first chunk within the attempt's bounds.
func (p *peeked) open(a *attempt, req *schema.Request) error {
	s, err := a.target.Deployment.Provider.Stream(a.ctx, a.providerCall(req))
	if err != nil {
		return err
	}
	first, err := s.Next()
	if err != nil && err != io.EOF {
		s.Close()
		return err
	}
	if !a.firstByte() {
		s.Close()
		return context.Cause(a.ctx)
	}
	*p = peeked{s: s, first: first, eof: err == io.EOF}
	return nil
}

// call is one request's state across its attempts.
type call struct {
	r *Router
	// ctx carries the request's deadline (errDeadline) and the client's cancellation.
	ctx      context.Context
	deadline time.Time
	meta     Meta
	last     *apierr.Error
	prev     *attempt
	// tried and skipped hold targets and keys this request used or that refused it.
	tried, skipped         []*targetState
	triedKeys, skippedKeys []*keyState
	// retryAt is the earliest time an out-of-selection target comes back (Unix ns).
	retryAt int64
	// cands is the candidates' buffer, kept here so that choosing does not allocate.
	cands [8]*Target
}

func (r *Router) newCall(ctx context.Context, timeout time.Duration) *call {
	return &call{r: r, ctx: ctx, deadline: time.Now().Add(timeout)}
}

// run tries the route and then its fallbacks until an attempt succeeds, and returns the
// successful attempt, which the caller finishes.
func (c *call) run(rt *Route, do func(a *attempt) error) (*attempt, error) {
	for _, m := range c.models(rt) {
		for i := 0; i <= m.Retries; i++ {
			a, err := c.next(m)
			if err != nil {
				return nil, err
			}
			if a == nil {
				break // nothing healthy left in this model: its fallbacks
			}
			a.begin(c.ctx)
			c.meta = Meta{Provider: a.target.Deployment.Name, UpstreamModel: a.target.Model, Attempts: c.meta.Attempts + 1}
			c.r.observe(a, c.meta.Attempts)
			v, e := classify(c.ctx, a, do(a))
			if v == vSuccess {
				return a, nil
			}
			a.finish(c.r, c.ctx, v, e)
			c.last, c.prev = e, a
			if v == vClient || v == vCancel || v == vDeadline {
				return nil, c.final()
			}
		}
	}
	return nil, c.final()
}

// models returns the route and its fallbacks that exist, in order, each once.
func (c *call) models(rt *Route) []*Route {
	t := c.r.table.Load()
	out := make([]*Route, 0, 1+len(rt.Fallbacks))
	out = append(out, rt)
	for _, name := range rt.Fallbacks {
		if f, ok := t.routes[name]; ok && !containsRoute(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func containsRoute(rs []*Route, r *Route) bool {
	for _, x := range rs {
		if x.Name == r.Name {
			return true
		}
	}
	return false
}

// final is the answer when no attempt succeeded.
func (c *call) final() error {
	if c.ctx.Err() != nil {
		if errors.Is(context.Cause(c.ctx), errDeadline) {
			return apierr.Timeout("the upstream did not answer before the model's timeout")
		}
		return clientClosed(c.ctx.Err())
	}
	e := c.last
	switch {
	case e == nil:
		u := apierr.Unavailable("every deployment of this model and of its fallbacks is unavailable (circuit breakers open)")
		if wait := time.Duration(c.retryAt - time.Now().UnixNano()); wait > 0 {
			u.RetryAfter = wait
		}
		return u
	case e.Kind == apierr.KindProvider && (e.Status == 401 || e.Status == 403):
		return apierr.Upstream("every attempt failed; the provider rejected its credentials").WithCause(e)
	case e.Kind == apierr.KindProvider && e.Status >= 500 && e.Status != 504:
		return apierr.Upstream("every attempt failed; last error: " + e.Message).WithCause(e)
	}
	return e
}
