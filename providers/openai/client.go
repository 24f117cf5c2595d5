// Package openai is the OpenAI dialect, used for OpenAI itself and for every
// OpenAI-compatible provider in the catalog (Mistral, Groq, DeepSeek, vLLM, Ollama, ...).
//
// It is a lossless passthrough. The client's body travels upstream as bytes with
// surgical edits only: the model name, the stream flag and stream_options.include_usage
// on streams (tollgate always asks for usage, to bill it), and the few per-provider quirks
// listed in the catalog. Unknown fields and their order survive. Responses come back
// byte for byte; the one exception is a stream whose client did not ask for usage, where
// the usage-only chunk is dropped and the "usage":null member that include_usage adds to
// every other chunk is removed, so the client sees exactly what it would have seen
// without tollgate's option.
//
// Errors are *apierr.Error, classified by status, headers and typed errors only.
// Upstream messages are copied with the credential redacted and their length capped.
package openai

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/httpclient"
	"github.com/tollgate-llm/tollgate/schema"
)

// New builds an OpenAI-dialect provider for cfg. The base URL is cfg.BaseURL, or the
// catalog default for cfg.Type; a type outside the catalog needs an explicit base URL
// and gets no quirks. cfg.Headers are sent on every request; cfg.Client is used for all
// traffic (httpclient.Default when nil).
func New(cfg providers.Config) (providers.Provider, error) {
	f := catalog[cfg.Type]
	base := cfg.BaseURL
	if base == "" {
		base = f.baseURL
	}
	if base == "" {
		return nil, fmt.Errorf("provider %q: type %q has no default base URL, set base_url", cfg.Name, cfg.Type)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("provider %q: base_url must be an absolute http or https URL", cfg.Name)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		// Endpoint paths are appended to the base URL, which a query would swallow.
		return nil, fmt.Errorf("provider %q: base_url must not have a query or fragment", cfg.Name)
	}
	c := &Client{
		typ:     cfg.Type,
		base:    strings.TrimRight(base, "/"),
		flavor:  f,
		http:    cfg.Client,
		jsonHdr: baseHeader(cfg.Headers, "application/json"),
		sseHdr:  baseHeader(cfg.Headers, "text/event-stream"),
		now:     time.Now,
	}
	if c.http == nil {
		c.http = httpclient.Default()
	}
	return c, nil
}

// baseHeader is the header every request starts from. Operator headers add attribution
// (OpenRouter's HTTP-Referer, X-Title) or organisation headers; Content-Type and Accept
// always describe the real exchange, and the credential, when there is one, replaces
// any configured Authorization header.
func baseHeader(extra map[string]string, accept string) http.Header {
	h := make(http.Header, len(extra)+2)
	for k, v := range extra {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", accept)
	return h
}

// Complete sends a non-streamed request and returns the upstream's body unchanged.
func (c *Client) Complete(ctx context.Context, call *providers.Call) (*schema.Response, error) {
	resp, err := c.do(ctx, call, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := readBody(resp.Body, resp.ContentLength, maxBodyBytes)
	if errors.Is(err, errTooLarge) {
		return nil, apierr.Upstream("upstream response is larger than 64 MiB").WithCause(err)
	}
	if err != nil {
		return nil, transportError(ctx, err, c.base, call.Key)
	}
	if !gjson.ValidBytes(body) {
		return nil, apierr.Upstream("upstream returned a non-JSON response")
	}
	// As for stream chunks: without the word, there is no error member to look for.
	if bytes.Contains(body, errorWord) {
		if e := embeddedError(body, call.Key); e != nil {
			return nil, e
		}
	}
	out := &schema.Response{Body: body, RateLimit: rateLimits(resp.Header)}
	out.Usage, out.HasUsage = usageOf(unsafeString(body))
	return out, nil
}

// Stream sends a streamed request. It returns once the upstream answered 2xx with an
// event stream; a JSON error sent with a 2xx status becomes an error here.
func (c *Client) Stream(ctx context.Context, call *providers.Call) (schema.Stream, error) {
	resp, err := c.do(ctx, call, true)
	if err != nil {
		return nil, err
	}
	if !isEventStream(resp.Header.Get("Content-Type")) {
		defer resp.Body.Close()
		body, rerr := readBody(resp.Body, resp.ContentLength, maxErrorBodyBytes)
		if rerr == nil && gjson.ValidBytes(body) {
			if e := embeddedError(body, call.Key); e != nil {
				return nil, e
			}
		}
		return nil, apierr.Upstream("upstream did not answer with an event stream")
	}
	st := newStream(ctx, resp.Body, call)
	st.drop = c.hooks.Drop
	return st, nil
}

// do sends the request and returns a 2xx response; any other status is read, closed
// and returned as an *apierr.Error.
func (c *Client) do(ctx context.Context, call *providers.Call, stream bool) (*http.Response, error) {
	req, err := c.newRequest(ctx, call, stream)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, transportError(ctx, err, c.base, call.Key)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	// A body that cannot be read in full still yields a status error, with the
	// generic message.
	body, _ := readBody(resp.Body, resp.ContentLength, maxErrorBodyBytes)
	e := statusError(resp.StatusCode, resp.Header, body, call.Key, c.now())
	if c.hooks.Error != nil {
		c.hooks.Error(e, resp.Header, body)
	}
	return nil, e
}

func (c *Client) newRequest(ctx context.Context, call *providers.Call, stream bool) (*http.Request, error) {
	path := call.Request.Endpoint.Path()
	if path == "" || call.Request.Endpoint == schema.EndpointModels {
		return nil, apierr.New(apierr.KindGateway, http.StatusInternalServerError, "server_error",
			"internal_error", fmt.Sprintf("endpoint %q cannot be relayed", call.Request.Endpoint))
	}
	body, err := c.requestBody(call, stream)
	if err != nil {
		return nil, apierr.InvalidJSON("the request body could not be edited for the upstream").WithCause(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(call.Request.Endpoint, call.Model), bytes.NewReader(body))
	if err != nil {
		return nil, apierr.From(err)
	}
	if stream {
		req.Header = c.sseHdr.Clone()
	} else {
		req.Header = c.jsonHdr.Clone()
	}
	c.setAuth(req.Header, call.Key)
	return req, nil
}

var errTooLarge = errors.New("body over the size limit")

// readBody reads r in full, up to limit bytes, sizing the buffer from the declared
// length when there is one.
func readBody(r io.Reader, size, limit int64) ([]byte, error) {
	if size > limit {
		return nil, errTooLarge
	}
	var buf bytes.Buffer
	if size > 0 {
		buf.Grow(int(size) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, errTooLarge
	}
	return buf.Bytes(), nil
}

// isEventStream reports whether a Content-Type is text/event-stream, with or without
// parameters.
func isEventStream(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "text/event-stream")
}

// rateLimits collects the upstream's x-ratelimit-* headers, keyed in lower case.
func rateLimits(h http.Header) map[string]string {
	var out map[string]string
	for k, v := range h {
		if len(v) == 0 || len(k) < len("x-ratelimit-") || !strings.EqualFold(k[:len("x-ratelimit-")], "x-ratelimit-") {
			continue
		}
		if out == nil {
			out = make(map[string]string, 8)
		}
		out[strings.ToLower(k)] = v[0]
	}
	return out
}
