// Package gemini is the Google Gemini API dialect (generativelanguage.googleapis.com,
// AI Studio keys). It translates OpenAI chat and embeddings requests to
// models.generateContent, models.streamGenerateContent (alt=sse), models.embedContent
// and models.batchEmbedContents, and the answers back to OpenAI's shapes.
//
// The base URL is the origin (https://generativelanguage.googleapis.com), as Google's
// SDKs call it; the API version is Config.APIVersion, default v1beta. The key travels
// in the x-goog-api-key header, never in the URL's ?key= query, which proxies and
// stack traces log.
//
// Choices made where the two APIs do not line up:
//   - System and developer messages, wherever they stand, are joined into the one
//     systemInstruction. Tool results become user turns of functionResponse parts, named
//     after the call they answer (Gemini matches by name); a result that is a JSON object
//     is the response itself, other text is {"output": text}. Adjacent turns of one role
//     are merged, and empty text parts dropped, because Gemini rejects them.
//   - Tool and response schemas go as plain JSON Schema (parametersJsonSchema,
//     responseJsonSchema) with the keywords Gemini does not support removed and const
//     rewritten as a one-value enum.
//   - Gemini sends no call ids: a call without one gets "call_" and 24 hex digits of a
//     hash of the response id, candidate, position and name, so the same answer always
//     has the same ids. A call's thoughtSignature is returned in
//     tool_calls[].extra_content.google.thought_signature, as Google's own OpenAI
//     endpoint does, and sent back from there; a replayed call without it gets Google's
//     documented "skip_thought_signature_validator" so that Gemini 3 accepts the history.
//   - Images: data: URLs become inlineData; https URLs become fileData (Gemini fetches
//     them) with the type from the file extension, and a URL whose type cannot be told is
//     a 400 that says to send a data: URL.
//   - finishReason: STOP is stop, or tool_calls when the answer calls a function;
//     MAX_TOKENS is length; SAFETY, RECITATION, LANGUAGE, BLOCKLIST, PROHIBITED_CONTENT,
//     SPII and the image safety reasons are content_filter; OTHER,
//     MALFORMED_FUNCTION_CALL and anything unknown are stop.
//   - A prompt blocked before any candidate (HTTP 200, promptFeedback.blockReason) is an
//     answer with empty content and finish_reason content_filter, with its usage, not an
//     error: Gemini billed it and the OpenAI shape has a place for it.
//   - Usage: prompt_tokens = promptTokenCount (which includes cachedContentTokenCount)
//     plus toolUsePromptTokenCount; completion_tokens = candidatesTokenCount plus
//     thoughtsTokenCount; cached_tokens = cachedContentTokenCount; reasoning_tokens =
//     thoughtsTokenCount. In a stream the last usageMetadata wins.
//   - Dropped without error, because Gemini has no equivalent: logprobs, logit_bias,
//     user, parallel_tool_calls, service_tier. Thought parts are not shown.
//   - Embeddings: a string input uses embedContent, an array batchEmbedContents (in
//     batches of 100); token-array inputs are a 400. base64 output is encoded here, as
//     little-endian float32. Usage comes from usageMetadata when Gemini reports it;
//     without it the response's usage is zero and HasUsage false.
//
// Errors: Google's {"error":{code,message,status,details}} becomes an *apierr.Error with
// the upstream status and the RPC status as code; a 400 whose ErrorInfo reason is
// API_KEY_INVALID (or API_KEY_EXPIRED) is a 401 invalid_api_key, and
// RetryInfo.retryDelay sets RetryAfter. Errors sent after the stream began, as a data:
// event or as plain JSON lines (which Google's SDKs brace-count), end the stream with
// that error.
package gemini

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/dialect"
	"github.com/tollgate-llm/tollgate/schema"
)

// DefaultBaseURL is the Gemini API's origin.
const DefaultBaseURL = "https://generativelanguage.googleapis.com"

// DefaultAPIVersion is the API version path segment the SDKs use by default.
const DefaultAPIVersion = "v1beta"

// maxBodyBytes bounds what is read of a whole answer.
const maxBodyBytes = 64 << 20

// New builds a Gemini provider for cfg. cfg.BaseURL is the origin (default
// DefaultBaseURL); a base URL that already ends in /v1beta or /v1 sets the version.
func New(cfg providers.Config) (providers.Provider, error) {
	base, ok := dialect.Origin(cfg.BaseURL, DefaultBaseURL)
	if !ok {
		return nil, fmt.Errorf("provider %q: base_url must be an absolute http or https URL without query", cfg.Name)
	}
	version := cfg.APIVersion
	for _, v := range []string{"v1beta", "v1"} {
		if trimmed, ok := strings.CutSuffix(base, "/"+v); ok {
			base, version = trimmed, v
			break
		}
	}
	if version == "" {
		version = DefaultAPIVersion
	}
	return &Client{base: base, version: version, http: dialect.Client(cfg.Client), now: time.Now, newID: randomID,
		headers: dialect.Header(cfg.Headers)}, nil
}

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// Complete answers a chat or embeddings request.
func (c *Client) Complete(ctx context.Context, call *providers.Call) (*schema.Response, error) {
	switch call.Request.Endpoint {
	case schema.EndpointChat:
		return c.chat(ctx, call)
	case schema.EndpointEmbeddings:
		return c.embed(ctx, call)
	}
	return nil, dialect.Unsupported("gemini", call.Request.Endpoint)
}

func (c *Client) chat(ctx context.Context, call *providers.Call) (*schema.Response, error) {
	body, err := c.chatBody(call)
	if err != nil {
		return nil, err
	}
	raw, err := c.post(ctx, call, "generateContent", "", body)
	if err != nil {
		return nil, err
	}
	return c.answer(raw, call.Model)
}

// answer translates a whole generateContent answer into the OpenAI response.
func (c *Client) answer(raw []byte, model string) (*schema.Response, error) {
	var r generateResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, apierr.Upstream("upstream returned a response that is not a Gemini answer").WithCause(err)
	}
	cr, usage, ok := chatResponse(&r, c.answerID(r.ResponseID), model, c.now().Unix())
	out, err := json.Marshal(cr)
	if err != nil {
		return nil, apierr.From(err)
	}
	return &schema.Response{Body: out, Usage: usage, HasUsage: ok}, nil
}

// answerID is the OpenAI id of an answer: Gemini's responseId when it sent one.
func (c *Client) answerID(responseID string) string {
	if responseID == "" {
		responseID = c.newID()
	}
	return "chatcmpl-" + responseID
}

// chatBody decodes the client's OpenAI request and encodes the Gemini one.
func (c *Client) chatBody(call *providers.Call) ([]byte, error) {
	req, err := dialect.DecodeChat(call.Request.Body)
	if err != nil {
		return nil, err
	}
	g, err := chatRequest(req, call.Model)
	if err != nil {
		return nil, err
	}
	return dialect.Encode(g)
}

// post sends body to the model's method and returns the whole 2xx answer.
func (c *Client) post(ctx context.Context, call *providers.Call, method, query string, body []byte) ([]byte, error) {
	resp, err := c.send(ctx, call, method, query, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := dialect.ReadAll(resp.Body, maxBodyBytes)
	if err != nil {
		return nil, dialect.ReadError(ctx, err, c.base, call.Key)
	}
	if e := embeddedError(raw, call.Key, c.now()); e != nil {
		return nil, e
	}
	if !json.Valid(raw) {
		return nil, apierr.Upstream("upstream returned a non-JSON response")
	}
	return raw, nil
}

// send posts body and returns a 2xx response; any other status is read, closed and
// returned as an *apierr.Error.
func (c *Client) send(ctx context.Context, call *providers.Call, method, query string, body []byte) (*http.Response, error) {
	req, err := dialect.NewPost(ctx, c.url(call.Model, method, query), c.headers, body)
	if err != nil {
		return nil, err
	}
	if !call.Key.Empty() {
		req.Header.Set("x-goog-api-key", call.Key.Reveal())
	}
	return dialect.Do(ctx, c.http, req, c.base, call.Key, func(resp *http.Response) *apierr.Error {
		return statusError(resp.StatusCode, resp.Header, dialect.ErrorBody(resp.Body), call.Key, c.now())
	})
}

// url is {base}/{version}/models/{model}:{method}. A model given as a resource name
// (models/..., tunedModels/...) is used as it is.
func (c *Client) url(model, method, query string) string {
	name := model
	if !strings.HasPrefix(model, "models/") && !strings.HasPrefix(model, "tunedModels/") {
		name = "models/" + url.PathEscape(model)
	}
	u := c.base + "/" + c.version + "/" + name + ":" + method
	if query != "" {
		u += "?" + query
	}
	return u
}
