// Package providers declares what a provider dialect implements. Each dialect lives in
// its own subpackage and translates between schema (OpenAI's shape) and its provider's
// wire format; none of them sees gin, the database or billing. The registry subpackage
// maps a provider type name to its constructor, explicitly.
package providers

import (
	"context"
	"net/http"

	"github.com/tollgate-llm/tollgate/schema"
)

// Config describes one configured provider deployment.
type Config struct {
	// Name is the operator's name for this provider ("openai", "claude-eu").
	Name string
	// Type is a dialect ("openai", "anthropic", ...) or a catalog name of an
	// OpenAI-compatible provider ("groq", "mistral", ...).
	Type string
	// BaseURL is what the provider's official SDK calls its base URL. Empty means the
	// type's public default.
	BaseURL    string
	APIVersion string
	Region     string
	// Headers are extra headers sent on every upstream request.
	Headers map[string]string
	// Client is the shared HTTP client. Providers must not build their own transports.
	Client *http.Client
}

// Call is one upstream attempt.
type Call struct {
	Request *schema.Request
	// Model is the upstream model name that replaces the client's model.
	Model string
	// Key is the provider credential opened from the vault.
	Key schema.Secret
}

// Provider sends calls upstream in its dialect and answers in OpenAI's shape.
//
// Errors are *apierr.Error with Kind provider: Status is the upstream status (or 502 for
// garbage, 504 for a timeout), Retryable and RetryAfter are set from the status and
// headers. A cancelled ctx aborts the upstream request.
type Provider interface {
	// Complete sends a non-streamed request and returns the whole answer.
	Complete(ctx context.Context, call *Call) (*schema.Response, error)
	// Stream sends a streamed request. It returns once the upstream answered with a
	// success status; chunks are then read from the Stream.
	Stream(ctx context.Context, call *Call) (schema.Stream, error)
}
