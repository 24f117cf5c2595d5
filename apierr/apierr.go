// Package apierr holds tollgate's one typed error. Every failure that reaches a client is
// an *Error; its Status, Type and Code are rendered once, at the HTTP edge, in OpenAI's
// error shape. Kind says whose fault it was, which the router uses to decide whether a
// failure counts against a deployment.
package apierr

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Kind classifies an error by who caused it.
type Kind int

// The kinds of error.
const (
	// KindCaller is a bad request from the client: bad JSON, unknown model, bad key.
	KindCaller Kind = iota + 1
	// KindPolicy is a refusal by tollgate's own rules: scopes, limits, budgets.
	KindPolicy
	// KindProvider is a failure reported by, or observed at, an upstream provider.
	KindProvider
	// KindGateway is a failure inside tollgate itself.
	KindGateway
)

// String returns the kind's name, for logs and metrics.
func (k Kind) String() string {
	switch k {
	case KindCaller:
		return "caller"
	case KindPolicy:
		return "policy"
	case KindProvider:
		return "provider"
	case KindGateway:
		return "gateway"
	}
	return "unknown"
}

// Error is an error with everything needed to answer a client in OpenAI's shape.
type Error struct {
	Kind    Kind
	Status  int
	Type    string
	Code    string
	Message string
	Param   string
	// Retryable says whether another attempt (same or other deployment) may succeed.
	Retryable bool
	// RetryAfter is the upstream's or limiter's requested wait, zero when unknown.
	RetryAfter time.Duration
	// Err is the underlying cause. It is logged, never shown to the client.
	Err error
}

// Error returns a short description; it never includes secrets because messages are
// built from tollgate's own text and the upstream's error message only.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s (%d %s): %v", e.Message, e.Status, e.Code, e.Err)
	}
	return fmt.Sprintf("%s (%d %s)", e.Message, e.Status, e.Code)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New builds an error.
func New(kind Kind, status int, typ, code, msg string) *Error {
	return &Error{Kind: kind, Status: status, Type: typ, Code: code, Message: msg}
}

// WithParam returns e with the offending parameter named.
func (e *Error) WithParam(p string) *Error { e.Param = p; return e }

// WithCause returns e with its underlying cause set.
func (e *Error) WithCause(err error) *Error { e.Err = err; return e }

// From returns err as an *Error. Errors that are not already typed become a 500
// gateway error whose message does not reveal the cause.
func From(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, errDeadline) {
		return Timeout("the request deadline passed").WithCause(err)
	}
	return &Error{Kind: KindGateway, Status: http.StatusInternalServerError, Type: "server_error",
		Code: "internal_error", Message: "internal gateway error", Err: err}
}

var errDeadline = errors.New("deadline")

// Common constructors, one per row of API.md's error table.

// InvalidJSON is a body that does not parse.
func InvalidJSON(msg string) *Error {
	return New(KindCaller, 400, "invalid_request_error", "invalid_json", msg)
}

// MissingField is a required field that is absent.
func MissingField(field string) *Error {
	return New(KindCaller, 400, "invalid_request_error", "missing_field",
		"you must provide the '"+field+"' field").WithParam(field)
}

// InvalidValue is a field with a value tollgate cannot accept.
func InvalidValue(field, msg string) *Error {
	return New(KindCaller, 400, "invalid_request_error", "invalid_value", msg).WithParam(field)
}

// InvalidAPIKey is a missing, malformed or unknown key.
func InvalidAPIKey(msg string) *Error {
	return New(KindCaller, 401, "invalid_request_error", "invalid_api_key", msg)
}

// ModelNotFound is a model with no route.
func ModelNotFound(model string) *Error {
	return New(KindCaller, 404, "invalid_request_error", "model_not_found",
		fmt.Sprintf("The model '%s' does not exist or you do not have access to it.", model)).WithParam("model")
}

// NotFound is an unknown resource other than a model.
func NotFound(msg string) *Error {
	return New(KindCaller, 404, "invalid_request_error", "not_found", msg)
}

// TooLarge is a body over the configured limit.
func TooLarge(limit int64) *Error {
	return New(KindCaller, 413, "invalid_request_error", "request_too_large",
		fmt.Sprintf("request body is larger than the limit of %d bytes", limit))
}

// Upstream is a failure that no attempt could recover from.
func Upstream(msg string) *Error {
	return New(KindProvider, 502, "upstream_error", "upstream_error", msg)
}

// Timeout is a request whose deadline passed.
func Timeout(msg string) *Error {
	return New(KindProvider, 504, "timeout", "upstream_timeout", msg)
}

// Unavailable is a model with no healthy deployment.
func Unavailable(msg string) *Error {
	return New(KindGateway, 503, "service_unavailable", "no_healthy_deployment", msg)
}

// Permission is a request outside the key's scopes.
func Permission(code, msg string) *Error {
	return New(KindPolicy, 403, "permission_error", code, msg)
}
