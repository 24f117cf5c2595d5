package openai

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/tidwall/sjson"

	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

// Limits on what tollgate reads from an upstream.
const (
	// maxBodyBytes caps a complete (non-streamed) response; larger ones are a 502.
	maxBodyBytes = 64 << 20
	// maxErrorBodyBytes caps an error response; only its first bytes matter.
	maxErrorBodyBytes = 1 << 20
	// maxLineBytes caps one SSE line (one chunk); larger ones end the stream with a 502.
	maxLineBytes = 16 << 20
	// readBufferBytes is the SSE reader's buffer. Lines that fit are returned without a
	// copy; longer ones are assembled in a growable buffer up to maxLineBytes. Chunks
	// are a few hundred bytes, and every open stream holds this buffer.
	readBufferBytes = 4 << 10
	// maxMessageBytes caps an upstream error message copied into an *apierr.Error.
	maxMessageBytes = 2 << 10
)

// setOpts makes sjson splice a value in place of an existing one with one allocation.
// ReplaceInPlace stays false, so sjson never writes to the slice it is given.
var setOpts = &sjson.Options{Optimistic: true}

var _ providers.Provider = (*Client)(nil)

// Client is an OpenAI-dialect provider: it relays OpenAI requests to an OpenAI or
// OpenAI-compatible upstream with surgical edits only, and returns the upstream's bytes.
// It is safe for concurrent use.
type Client struct {
	typ     string
	base    string
	flavor  flavor
	http    *http.Client
	jsonHdr http.Header
	sseHdr  http.Header
	now     func() time.Time
	hooks   Hooks
}

// stream relays one upstream SSE response. Next and Usage are for one goroutine; Close
// may be called from any goroutine, any number of times.
type stream struct {
	ctx  context.Context
	body io.ReadCloser
	r    *bufio.Reader
	// key is only used to redact the credential from mid-stream error messages.
	key schema.Secret
	// includeUsage is whether the client asked for stream_options.include_usage.
	includeUsage bool
	// drop withholds chunks from the client (Hooks.Drop); nil keeps every chunk.
	drop func(chunk []byte) bool

	long    []byte // a line longer than r's buffer, assembled
	scratch []byte // a chunk edited before it is returned

	usage    schema.Usage
	hasUsage bool
	// err is sticky: once set, Next returns it forever (io.EOF after [DONE]).
	err error

	closeOnce sync.Once
	closeErr  error
}
