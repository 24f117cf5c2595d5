package router

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

// The causes with which the router cancels a context; they tell its own timeouts apart
// from a client that went away.
var (
	errDeadline       = errors.New("the request deadline passed")
	errAttemptTimeout = errors.New("the attempt's time to first byte passed")
	errIdle           = errors.New("the stream went idle")
)

// defaultCooldown is how long a key rests after a 429 without retry-after.
const defaultCooldown = time.Second

// attempt is one try: a target, one of its keys, and the breaker slots it holds.
type attempt struct {
	target *Target
	ki     int // index in target.keys; -1 when the deployment has no keys
	tDone  func(error)
	kDone  func(error)
	start  time.Time
	ctx    context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer // the time-to-first-byte bound; nil without one
	done   atomic.Bool
	// observed ends the observer's record of the attempt; nil without an observer.
	observed func(AttemptResult)
}

// key returns the attempt's key state, nil when the deployment has no keys.
func (a *attempt) key() *keyState {
	if a.ki < 0 {
		return nil
	}
	return a.target.keys[a.ki]
}

// providerCall is what the provider is asked to do.
func (a *attempt) providerCall(req *schema.Request) *providers.Call {
	c := &providers.Call{Request: req, Model: a.target.Model}
	if a.ki >= 0 {
		c.Key = a.target.Deployment.Keys[a.ki].Secret
	}
	return c
}

// begin starts the attempt under ctx, with its time-to-first-byte bound.
func (a *attempt) begin(ctx context.Context) {
	a.start = time.Now()
	a.target.st.inFlight.Add(1)
	a.ctx, a.cancel = context.WithCancelCause(ctx)
	if d := a.target.Deployment.Timeout; d > 0 {
		a.timer = time.AfterFunc(d, func() { a.cancel(errAttemptTimeout) })
	}
}

// firstByte stops the time-to-first-byte bound and records the latency. It reports
// false when the bound fired first.
func (a *attempt) firstByte() bool {
	if a.timer != nil && !a.timer.Stop() {
		return false
	}
	a.target.st.observeLatency(time.Since(a.start))
	return true
}

// verdict is what an attempt's outcome means for health and for the next attempt.
type verdict int

const (
	vSuccess  verdict = iota
	vCounted          // an upstream failure: counts against the breakers; try elsewhere
	vKey              // the upstream rejected the key: disable it; try elsewhere
	vClient           // the request's own fault: answered as it is, not counted
	vCancel           // the client went away: not counted, stop
	vDeadline         // the request's deadline passed: counted, stop
)

// finish reports the outcome to the breakers and the health averages, once.
func (a *attempt) finish(r *Router, ctx context.Context, v verdict, e *apierr.Error) {
	if !a.done.CompareAndSwap(false, true) {
		return
	}
	if a.timer != nil {
		a.timer.Stop()
	}
	a.cancel(nil)
	a.target.st.inFlight.Add(-1)
	k := a.key()
	tOut, kOut := errExcluded, errExcluded
	switch v {
	case vSuccess:
		tOut, kOut = nil, nil
		a.target.st.observe(false)
	case vCounted, vDeadline:
		// The key's breaker counts only what is the key's doing (rate limits): a 5xx
		// or a timeout is the model's or the provider's, and must not take the key
		// away from the deployment's other models.
		tOut = errCounted
		a.target.st.observe(true)
		if k != nil && e != nil && e.Status == http.StatusTooManyRequests {
			kOut = errCounted
			k.cooldownUntil.Store(time.Now().Add(orDefault(e.RetryAfter, defaultCooldown)).UnixNano())
		}
	case vKey:
		kOut = errCounted
		if k != nil {
			r.disableKey(ctx, k, e.Status)
		}
	}
	a.tDone(tOut)
	a.kDone(kOut)
	if a.observed != nil {
		a.observed(AttemptResult{Outcome: outcomes[v], Err: e})
	}
}

// orDefault returns d, or def when d is not positive.
func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// classify reads an attempt's error. ctx is the request's context (deadline and
// client), a.ctx the attempt's.
func classify(ctx context.Context, a *attempt, err error) (verdict, *apierr.Error) {
	if err == nil {
		return vSuccess, nil
	}
	if ctx.Err() != nil {
		if errors.Is(context.Cause(ctx), errDeadline) {
			return vDeadline, apierr.Timeout("the upstream did not answer before the model's timeout").WithCause(err)
		}
		return vCancel, clientClosed(err)
	}
	switch cause := context.Cause(a.ctx); {
	case errors.Is(cause, errAttemptTimeout):
		return vCounted, retryable(apierr.Timeout("the upstream did not start answering within the provider's timeout").WithCause(err))
	case errors.Is(cause, errIdle):
		return vCounted, apierr.Timeout("the upstream stream stalled: no data within the idle timeout").WithCause(err)
	}
	e := apierr.From(err)
	switch {
	case e.Kind != apierr.KindProvider:
		return vClient, e
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return vKey, e
	case e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout || e.Status >= 500:
		return vCounted, e
	}
	return vClient, e
}

func retryable(e *apierr.Error) *apierr.Error { e.Retryable = true; return e }

// clientClosed is the error of a request whose client went away.
func clientClosed(cause error) *apierr.Error {
	return apierr.New(apierr.KindCaller, 499, "invalid_request_error", "client_closed_request",
		"the client closed the request").WithCause(cause)
}

// disableKey takes a rejected key out of rotation, once, and tells the KeyHealth hook.
// The hook runs with the request's values but not its cancellation, so a client that
// leaves does not cut the store write short.
func (r *Router) disableKey(ctx context.Context, k *keyState, status int) {
	if !k.disabled.CompareAndSwap(false, true) {
		return
	}
	r.opts.Log.Warn("provider key disabled: the upstream rejected it", "deployment", k.deployment,
		"credential_id", k.credID, "status", status)
	if r.opts.KeyHealth == nil {
		return
	}
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	r.opts.KeyHealth.Disable(hctx, k.deployment, k.credID, status)
}
