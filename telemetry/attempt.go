package telemetry

import (
	"context"
	"net"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// Attempt describes an upstream attempt. CredentialID names the provider key; the key
// itself never reaches telemetry.
type Attempt struct {
	Deployment, ProviderType, Model, CredentialID string
	Number                                        int
}

// AttemptEnd is how an attempt ended: Outcome is the router's ("success", "failure",
// "key_rejected", "client_error", "cancelled", "timeout"); Status and Code are the
// upstream's status and the error's apierr code, when it failed.
type AttemptEnd struct {
	Outcome string
	Status  int
	Code    string
}

// StartAttempt opens a client span for one upstream attempt, a child of the request's
// span, named and attributed after the GenAI conventions ("chat gpt-4o"). The returned
// function ends it and must be called once.
func (o *Observer) StartAttempt(ctx context.Context, a Attempt) (context.Context, func(AttemptEnd)) {
	st, _ := ctx.Value(stateKey{}).(*requestState)
	if o.tracer == nil || st == nil {
		return ctx, func(AttemptEnd) {}
	}
	provider := genAIProvider(a.ProviderType)
	st.mu.Lock()
	st.provider = provider
	st.mu.Unlock()
	name := st.operation
	if name == "" {
		name = "upstream"
	}
	ctx, span := o.tracer.Start(ctx, name+" "+Redact(a.Model), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.GenAIOperationNameKey.String(st.operation), provider,
			str(semconv.GenAIRequestModelKey, a.Model), str("tollgate.provider", a.Deployment),
			str("tollgate.provider_key.id", a.CredentialID), attribute.Int("tollgate.attempt", a.Number)))
	return ctx, func(e AttemptEnd) {
		span.SetAttributes(attribute.String("tollgate.outcome", e.Outcome))
		if e.Status > 0 {
			span.SetAttributes(semconv.HTTPResponseStatusCode(e.Status))
		}
		if e.Outcome != "success" {
			errType := e.Code
			if errType == "" {
				errType = e.Outcome
			}
			span.SetAttributes(str(semconv.ErrorTypeKey, errType))
			if e.Outcome != "cancelled" {
				span.SetStatus(codes.Error, Redact(errType))
			}
		} else {
			span.SetAttributes(str(semconv.GenAIResponseModelKey, a.Model))
		}
		span.End()
	}
}

// methodName keeps the standard HTTP methods and names any other "_OTHER", as the HTTP
// conventions ask, so that a client cannot put text of its own in the span name.
func methodName(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// hostOnly returns the host of a Host header without its port.
func hostOnly(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return h
}
