package router

import (
	"context"

	"github.com/tollgate-llm/tollgate/apierr"
)

// AttemptObserver hears about every upstream attempt; the app wires telemetry's
// tracing to it. AttemptStart runs as an attempt begins, on the request's goroutine:
// the context it returns becomes the attempt's (the provider call runs under it), and
// the function it returns is called exactly once, when the attempt's outcome is known
// (for a stream, when the stream ends).
type AttemptObserver interface {
	AttemptStart(ctx context.Context, a AttemptInfo) (context.Context, func(AttemptResult))
}

// AttemptInfo describes an attempt. It never holds a credential: CredentialID names
// the provider key, as KeyHealth does.
type AttemptInfo struct {
	// Deployment is the provider's configured name, ProviderType its dialect or
	// catalog type, Model the upstream model name.
	Deployment, ProviderType, Model string
	CredentialID                    string
	// Attempt counts the request's attempts from 1, across fallbacks.
	Attempt int
}

// Attempt outcomes, as AttemptResult.Outcome reports them.
const (
	OutcomeSuccess     = "success"
	OutcomeFailure     = "failure"
	OutcomeKeyRejected = "key_rejected"
	OutcomeClientError = "client_error"
	OutcomeCancelled   = "cancelled"
	OutcomeTimeout     = "timeout"
)

// AttemptResult is how an attempt ended.
type AttemptResult struct {
	// Outcome is one of the Outcome constants.
	Outcome string
	// Err is the attempt's error; nil on success and for a stream the client closed.
	Err *apierr.Error
}

// observerBox lets an interface value live in an atomic.Pointer.
type observerBox struct{ o AttemptObserver }

// SetObserver makes o hear about every attempt from now on; nil stops it.
func (r *Router) SetObserver(o AttemptObserver) {
	if o == nil {
		r.observer.Store(nil)
		return
	}
	r.observer.Store(&observerBox{o: o})
}

// observe tells the observer, if any, that a began as the request's n-th attempt.
func (r *Router) observe(a *attempt, n int) {
	box := r.observer.Load()
	if box == nil {
		return
	}
	info := AttemptInfo{Deployment: a.target.Deployment.Name, ProviderType: a.target.Deployment.Type,
		Model: a.target.Model, Attempt: n}
	if a.ki >= 0 {
		info.CredentialID = a.target.Deployment.Keys[a.ki].ID
	}
	a.ctx, a.observed = box.o.AttemptStart(a.ctx, info)
}

// outcomes names each verdict for observers.
var outcomes = [...]string{vSuccess: OutcomeSuccess, vCounted: OutcomeFailure, vKey: OutcomeKeyRejected,
	vClient: OutcomeClientError, vCancel: OutcomeCancelled, vDeadline: OutcomeTimeout}
