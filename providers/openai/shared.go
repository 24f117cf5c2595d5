package openai

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

// The functions below export this package's error conventions to the translating
// dialects (Bedrock, Anthropic, ...), so that every provider classifies transport
// failures, cancellations, waits and upstream text the same way.

// TransportError maps a failure to send a request or read its answer: the caller's
// deadline is a 504, the caller going away a 499 (Kind caller, code
// client_closed_request), anything else a retryable 502 naming only base's host. The
// cause's text loses URL queries, user info and the credential.
func TransportError(ctx context.Context, err error, base string, key schema.Secret) *apierr.Error {
	return transportError(ctx, err, base, key)
}

// ContextError maps a done context: a deadline is a retryable 504, a cancellation a 499.
func ContextError(ctx context.Context) *apierr.Error { return contextError(ctx) }

// Sanitize makes an upstream string safe to show a client: the credential redacted,
// the length capped at 2 KiB, and a private copy.
func Sanitize(s string, key schema.Secret) string { return sanitize(s, key) }

// RetryAfter reads an upstream's requested wait from retry-after-ms, then retry-after
// (seconds or an HTTP date relative to now); zero means no advice.
func RetryAfter(h http.Header, now time.Time) time.Duration { return retryAfter(h, now) }

// RetryableStatus reports whether another attempt may succeed after status: 408, 409,
// 429 and 5xx.
func RetryableStatus(status int) bool { return retryableStatus(status) }

// ErrorType is OpenAI's error type for an upstream status.
func ErrorType(status int) string { return defaultType(status) }

// ErrTooLarge is the cause ReadBody returns for a body over its limit.
var ErrTooLarge = errTooLarge

// ReadBody reads r in full, up to limit bytes, sizing its buffer from size (a
// Content-Length, or -1); a longer body is ErrTooLarge.
func ReadBody(r io.Reader, size, limit int64) ([]byte, error) { return readBody(r, size, limit) }
