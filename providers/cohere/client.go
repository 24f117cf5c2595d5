// Package cohere is the Cohere v2 dialect: OpenAI chat requests become POST /v2/chat
// (streamed or not) and embeddings POST /v2/embed, with Bearer auth, and the answers
// come back in OpenAI's shapes.
//
// The base URL is the origin (https://api.cohere.com), as Cohere's SDKs call it; a base
// URL ending in /v2 or /v1 is taken as that origin.
//
// Choices made where the two APIs do not line up:
//   - System and developer messages are joined, in order, into one system message at
//     the start; Cohere wants the system turn first. An assistant message's text beside
//     tool calls is sent as its tool_plan; the tool_plan of an answer is not shown (it is
//     the model's note to itself, not the answer).
//   - tool_choice: none is NONE, required is REQUIRED, a named function is REQUIRED
//     with only that function offered (Cohere cannot name one); auto is the default.
//     response_format json_object and json_schema are Cohere's json_object, the latter
//     with its schema. top_p is p; stop is stop_sequences; n other than 1 is a 400.
//     Dropped without error: logprobs, logit_bias, user, parallel_tool_calls,
//     reasoning_effort.
//   - Images: image_url parts pass through (data: and https URLs); audio and files are a
//     400.
//   - finish_reason: COMPLETE and STOP_SEQUENCE are stop, MAX_TOKENS is length,
//     TOOL_CALL is tool_calls, TIMEOUT (cut short by a time limit) is length. ERROR is
//     a failure, not an answer: a retryable 502 with Cohere's message, after the chunks
//     already streamed; a stream's usage stays readable from Stream.Usage.
//   - Usage: prompt_tokens and completion_tokens are the billed units (what Cohere
//     charges), falling back to tokens (which also count the prompt template) when no
//     billed units are sent; cached_tokens is usage.cached_tokens. Cohere reports no
//     cache writes and no reasoning count.
//   - The stream: message-start opens the answer, content deltas are content,
//     tool-call-start/-delta are tool-call deltas, message-end carries finish_reason and
//     usage; tool-plan, citation, thinking and debug events are not shown. event: lines
//     and a final data: [DONE] are accepted and not required.
//   - Embeddings: /v2/embed with input_type search_document and embedding_types
//     ["float"], in batches of 96 texts; base64 output is encoded here, as little-endian
//     float32. prompt_tokens is meta.billed_units.input_tokens.
//
// Errors: Cohere's {"message": ...} becomes an *apierr.Error with the upstream status;
// 498 (invalid token) is a 401 invalid_api_key, 499 (request cancelled) a 499
// client_closed_request.
package cohere

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/httpclient"
	"github.com/tollgate-llm/tollgate/providers/openai"
	"github.com/tollgate-llm/tollgate/schema"
)

// DefaultBaseURL is Cohere's API origin.
const DefaultBaseURL = "https://api.cohere.com"

// Limits on what is read from the upstream.
const (
	maxBodyBytes      = 64 << 20
	maxErrorBodyBytes = 1 << 20
)

// New builds a Cohere provider for cfg.
func New(cfg providers.Config) (providers.Provider, error) {
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("provider %q: base_url must be an absolute http or https URL without query", cfg.Name)
	}
	base = strings.TrimRight(base, "/")
	for _, v := range []string{"/v2", "/v1"} {
		base = strings.TrimSuffix(base, v)
	}
	c := &Client{base: base, http: cfg.Client, now: time.Now, headers: make(http.Header, len(cfg.Headers)+1)}
	for k, v := range cfg.Headers {
		c.headers.Set(k, v)
	}
	c.headers.Set("Content-Type", "application/json")
	if c.http == nil {
		c.http = httpclient.Default()
	}
	return c, nil
}

// Complete answers a chat or embeddings request.
func (c *Client) Complete(ctx context.Context, call *providers.Call) (*schema.Response, error) {
	switch call.Request.Endpoint {
	case schema.EndpointChat:
		return c.chat(ctx, call)
	case schema.EndpointEmbeddings:
		return c.embed(ctx, call)
	}
	return nil, unsupported(call.Request.Endpoint)
}

func (c *Client) chat(ctx context.Context, call *providers.Call) (*schema.Response, error) {
	body, err := chatBody(call, false)
	if err != nil {
		return nil, err
	}
	raw, err := c.post(ctx, call, "/v2/chat", body)
	if err != nil {
		return nil, err
	}
	return c.answer(raw, call.Model, call.Key)
}

// answer translates a whole /v2/chat answer into the OpenAI response.
func (c *Client) answer(raw []byte, model string, key schema.Secret) (*schema.Response, error) {
	var r chatResponse
	if err := json.Unmarshal(raw, &r); err != nil || (r.FinishReason == "" && r.ID == "") {
		return nil, apierr.Upstream("upstream returned a response that is not a Cohere chat answer").WithCause(err)
	}
	if r.FinishReason == "ERROR" {
		return nil, errFinish("", key)
	}
	u, ok := usageOf(r.Usage)
	cr := toOpenAI(&r, "chatcmpl-"+r.ID, model, c.now().Unix())
	if ok {
		cr.Usage = u.WireUsage()
	}
	out, err := json.Marshal(cr)
	if err != nil {
		return nil, apierr.From(err)
	}
	return &schema.Response{Body: out, Usage: u, HasUsage: ok}, nil
}

// chatBody decodes the client's OpenAI request and encodes Cohere's.
func chatBody(call *providers.Call, stream bool) ([]byte, error) {
	var req schema.ChatRequest
	if err := json.Unmarshal(call.Request.Body, &req); err != nil {
		return nil, apierr.InvalidJSON("the request body is not a valid chat completion request").WithCause(err)
	}
	cr, err := toChat(&req, call.Model, stream)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(cr)
	if err != nil {
		return nil, apierr.From(err)
	}
	return b, nil
}

// post sends body to path and returns the whole 2xx JSON answer.
func (c *Client) post(ctx context.Context, call *providers.Call, path string, body []byte) ([]byte, error) {
	resp, err := c.send(ctx, call, path, body, "application/json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := readAll(resp.Body, maxBodyBytes)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, apierr.Upstream("upstream response is larger than the limit").WithCause(err)
		}
		return nil, openai.TransportError(ctx, err, c.base, call.Key)
	}
	if !json.Valid(raw) {
		return nil, apierr.Upstream("upstream returned a non-JSON response")
	}
	return raw, nil
}

// send posts body and returns a 2xx response; any other status is read, closed and
// returned as an *apierr.Error.
func (c *Client) send(ctx context.Context, call *providers.Call, path string, body []byte, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, apierr.From(err)
	}
	req.Header = c.headers.Clone()
	req.Header.Set("Accept", accept)
	if !call.Key.Empty() {
		req.Header.Set("Authorization", "Bearer "+call.Key.Reveal())
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, openai.TransportError(ctx, err, c.base, call.Key)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	raw, _ := readAll(resp.Body, maxErrorBodyBytes) // a short body still yields a status error
	return nil, statusError(ctx, resp.StatusCode, resp.Header, raw, call.Key, c.now())
}

var errTooLarge = errors.New("upstream body over the size limit")

// readAll reads r in full, up to limit bytes.
func readAll(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, nil
}
