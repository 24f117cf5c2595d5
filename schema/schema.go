// Package schema holds the internal request, response, usage and stream types that the
// server, router and providers exchange. It depends on nothing but the standard library.
//
// Bodies are OpenAI's JSON, carried as bytes: for OpenAI-dialect upstreams they travel
// through untouched but for surgical edits; other dialects decode and re-encode them.
package schema

import (
	"encoding/json"
	"log/slog"
)

// Endpoint names an OpenAI-compatible endpoint; keys are scoped by it.
type Endpoint string

// The endpoints.
const (
	EndpointChat        Endpoint = "chat"
	EndpointCompletions Endpoint = "completions"
	EndpointEmbeddings  Endpoint = "embeddings"
	EndpointModels      Endpoint = "models"
)

// Path returns the endpoint's path below an OpenAI-style base URL ending in /v1.
func (e Endpoint) Path() string {
	switch e {
	case EndpointChat:
		return "/chat/completions"
	case EndpointCompletions:
		return "/completions"
	case EndpointEmbeddings:
		return "/embeddings"
	case EndpointModels:
		return "/models"
	}
	return ""
}

// Request is one inference request as the client sent it, plus the few fields tollgate
// reads from it. Body is never modified in place: providers copy before editing.
type Request struct {
	ID       string
	Endpoint Endpoint
	// Model is the model name the client asked for (a tollgate route name).
	Model string
	// Stream is true when the client asked for server-sent events.
	Stream bool
	// IncludeUsage is true when the client asked for stream_options.include_usage.
	IncludeUsage bool
	// MaxTokens is max_completion_tokens or max_tokens, zero when absent.
	MaxTokens int64
	// Body is the client's JSON exactly as received.
	Body []byte
}

// Usage is token usage normalised to OpenAI's meaning: PromptTokens includes cached and
// cache-write tokens, CompletionTokens includes reasoning tokens.
type Usage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
	CachedTokens     int64 `json:"cached_tokens,omitempty"`
	CacheWriteTokens int64 `json:"cache_write_tokens,omitempty"`
	ReasoningTokens  int64 `json:"reasoning_tokens,omitempty"`
}

// Response is a complete, non-streamed answer already in OpenAI's JSON shape.
type Response struct {
	Body []byte
	// Usage is the upstream's reported usage; HasUsage is false when it reported none.
	Usage    Usage
	HasUsage bool
	// RateLimit holds the upstream's x-ratelimit-* headers, for observability.
	RateLimit map[string]string
}

// Stream yields an answer as OpenAI chat or completion chunks.
type Stream interface {
	// Next returns the payload of the next `data:` event (JSON, without "data: " and
	// without the final "[DONE]"), or io.EOF after the last one. The slice is valid
	// until the next call.
	Next() ([]byte, error)
	// Usage returns the usage reported so far; it is final once Next returned io.EOF.
	Usage() (Usage, bool)
	// Close releases the upstream connection. It is safe to call more than once.
	Close() error
}

// Secret is a credential in memory. It never prints, logs or marshals its value.
type Secret struct{ v string }

// NewSecret wraps a credential.
func NewSecret(v string) Secret { return Secret{v: v} }

// Reveal returns the credential, for the one place that sends it upstream.
func (s Secret) Reveal() string { return s.v }

// Empty reports whether no credential is set.
func (s Secret) Empty() bool { return s.v == "" }

const redacted = "[REDACTED]"

// String returns a redaction marker.
func (s Secret) String() string { return redacted }

// GoString returns a redaction marker, so %#v does not print the value.
func (s Secret) GoString() string { return redacted }

// LogValue returns a redaction marker for slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON returns a redaction marker.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// MarshalText returns a redaction marker (YAML and other text encoders).
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
