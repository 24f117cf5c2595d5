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
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/dialect"
	"github.com/tollgate-llm/tollgate/schema"
)

// DefaultBaseURL is Cohere's API origin.
const DefaultBaseURL = "https://api.cohere.com"

// maxBodyBytes bounds what is read of a whole answer.
const maxBodyBytes = 64 << 20

// New builds a Cohere provider for cfg.
func New(cfg providers.Config) (providers.Provider, error) {
	base, ok := dialect.Origin(cfg.BaseURL, DefaultBaseURL)
	if !ok {
		return nil, fmt.Errorf("provider %q: base_url must be an absolute http or https URL without query", cfg.Name)
	}
	for _, v := range []string{"/v2", "/v1"} {
		base = strings.TrimSuffix(base, v)
	}
	return &Client{base: base, http: dialect.Client(cfg.Client), now: time.Now, headers: dialect.Header(cfg.Headers)}, nil
}

// Complete answers a chat or embeddings request.
func (c *Client) Complete(ctx context.Context, call *providers.Call) (*schema.Response, error) {
	switch call.Request.Endpoint {
	case schema.EndpointChat:
		return c.chat(ctx, call)
	case schema.EndpointEmbeddings:
		return c.embed(ctx, call)
	}
	return nil, dialect.Unsupported("cohere", call.Request.Endpoint)
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
	req, err := dialect.DecodeChat(call.Request.Body)
	if err != nil {
		return nil, err
	}
	cr, err := toChat(req, call.Model, stream)
	if err != nil {
		return nil, err
	}
	return dialect.Encode(cr)
}

// post sends body to path and returns the whole 2xx JSON answer.
func (c *Client) post(ctx context.Context, call *providers.Call, path string, body []byte) ([]byte, error) {
	resp, err := c.send(ctx, call, path, body, "application/json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := dialect.ReadAll(resp.Body, maxBodyBytes)
	if err != nil {
		return nil, dialect.ReadError(ctx, err, c.base, call.Key)
	}
	if !json.Valid(raw) {
		return nil, apierr.Upstream("upstream returned a non-JSON response")
	}
	return raw, nil
}

// send posts body and returns a 2xx response; any other status is read, closed and
// returned as an *apierr.Error.
func (c *Client) send(ctx context.Context, call *providers.Call, path string, body []byte, accept string) (*http.Response, error) {
	req, err := dialect.NewPost(ctx, c.base+path, c.headers, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	if !call.Key.Empty() {
		req.Header.Set("Authorization", "Bearer "+call.Key.Reveal())
	}
	// A short body still yields a status error.
	return dialect.Do(ctx, c.http, req, c.base, call.Key, func(resp *http.Response) *apierr.Error {
		return statusError(ctx, resp.StatusCode, resp.Header, dialect.ErrorBody(resp.Body), call.Key, c.now())
	})
}
