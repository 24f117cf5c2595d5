// Package bedrock is the AWS Bedrock dialect: OpenAI chat requests are translated to
// the Converse API (POST /model/{modelId}/converse) and ConverseStream
// (/converse-stream, a binary event stream), and embeddings to Amazon Titan Text
// Embeddings or Cohere Embed through InvokeModel (/model/{modelId}/invoke).
//
// # Endpoint and credentials
//
// The host is bedrock-runtime.{region}.amazonaws.com, region from the provider's
// region; base_url overrides it (a VPC endpoint, a proxy, a test server), and the region
// is then still needed for SigV4 (it is read from a standard bedrock-runtime host name
// when not configured). The model id (the target's upstream model: a model id such as
// anthropic.claude-3-5-haiku-20241022-v1:0, an inference profile or an ARN) is
// path-escaped the way the AWS SDKs escape it, ':' and '/' included.
//
// The provider key secret is either
//
//   - a Bedrock API key, sent as "Authorization: Bearer <key>"; or
//   - IAM credentials "ACCESS_KEY_ID:SECRET_ACCESS_KEY" or
//     "ACCESS_KEY_ID:SECRET_ACCESS_KEY:SESSION_TOKEN", used to sign every request with
//     AWS Signature Version 4 for service "bedrock" (the session token travels as
//     X-Amz-Security-Token).
//
// Signing uses the AWS SDK for Go v2's signer (github.com/aws/aws-sdk-go-v2/aws/signer/v4)
// rather than a hand-written one: it is AWS's maintained implementation of the
// canonical-request rules that are easy to get subtly wrong (double URI-encoding of
// non-S3 paths such as the model id's %3A, header canonicalisation, session tokens),
// and it costs one small module with no transitive weight beyond smithy-go. It is
// checked against AWS's published SigV4 test vectors, and fakellm verifies every
// signature with an independent implementation.
//
// # Translation
//
// System and developer messages become the top-level system list; user text and
// base64 data: URL images (png, jpeg, gif, webp) become content blocks, while image
// links are refused with a 400 (Converse takes bytes, and tollgate does not fetch URLs
// for clients); assistant tool calls become toolUse blocks and tool messages user
// toolResult blocks; consecutive messages of one role are merged, as Converse needs
// alternating turns. max_completion_tokens (or max_tokens), temperature, top_p and
// stop go to inferenceConfig; tools to toolConfig with toolChoice auto, any
// ("required") or a named tool. tool_choice "none" leaves the tools out (Converse has
// no "none"), unless the history holds tool calls, which Converse only accepts with a
// toolConfig. n above 1 is refused; presence and frequency penalties, seed, logprobs,
// user and reasoning_effort have no Converse equivalent and are not sent.
//
// JSON mode (response_format json_object or json_schema) has no Converse switch
// either. It is done the way LiteLLM and the AWS samples do it: a tool named
// tollgate_json_response whose input schema is the requested schema ({"type":"object"}
// for json_object) is added and forced, and its input comes back to the client as the
// message content with finish_reason "stop". With client tools present, the model must
// call either one of them or the JSON tool.
//
// Stop reasons map end_turn and stop_sequence to stop, max_tokens and
// model_context_window_exceeded to length, tool_use to tool_calls, and
// guardrail_intervened and content_filtered to content_filter.
//
// # Usage
//
// Bedrock's inputTokens excludes the prompt-cache reads and writes, which it reports
// beside it as cacheReadInputTokens and cacheWriteInputTokens: AWS's prompt-caching
// guide gives total input = inputTokens + cacheReadInputTokens +
// cacheWriteInputTokens, and LiteLLM (#15292), ruby_llm (#832) and opencode corrected
// their Bedrock usage to that reading. OpenAI's prompt_tokens is therefore the sum of the
// three, cached_tokens the reads and cache_write_tokens the writes. Reasoning is not
// broken out of outputTokens by Bedrock, so reasoning_tokens stays 0. A stream's usage
// comes from its metadata event, the last one; it is the same usage as the unstreamed
// answer's.
//
// # Streams
//
// The event-stream framing is decoded here (eventstream.go), every prelude and message
// CRC checked. messageStart opens the OpenAI stream with the role; contentBlockStart of
// a tool use starts a tool call (index, id, type, name); contentBlockDelta carries text
// or argument fragments; messageStop gives the finish chunk and metadata the usage
// chunk, sent only when the client asked for include_usage. Exception frames
// (throttlingException, modelStreamErrorException, validationException, ...) end the
// stream with an *apierr.Error of the exception's status.
//
// # Errors
//
// Error answers are {"message": ...} with the exception named in x-amzn-ErrorType. The
// upstream status is kept; 424 model errors are retryable like 408, 429 and 5xx; AWS's
// 403 answers to a bad credential (UnrecognizedClientException,
// InvalidSignatureException, ...) become 401 invalid_api_key.
//
// # Embeddings
//
// Bedrock has no OpenAI-style embeddings operation: each model family takes its own
// InvokeModel body. Two families are translated: Amazon Titan Text Embeddings
// (amazon.titan-embed-text-v1, amazon.titan-embed-text-v2:0, dimensions 256, 512 or
// 1024, normalised), which embeds one text per call, so inputs are sent one after the
// other; and Cohere Embed (cohere.embed-*), 96 texts per call, embedded with input_type
// search_document since OpenAI's API has no input type, its tokens read from the
// X-Amzn-Bedrock-Input-Token-Count header. Other models answer 400 unsupported_model.
package bedrock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/dialect"
	"github.com/tollgate-llm/tollgate/providers/openai"
	"github.com/tollgate-llm/tollgate/schema"
)

// Limits on what is read from Bedrock.
const (
	maxBodyBytes      = 64 << 20
	maxErrorBodyBytes = 1 << 20
)

var (
	regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z0-9]+)+-[0-9]+$`)
	hostPattern   = regexp.MustCompile(`^bedrock-runtime(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$`)
)

// New builds a Bedrock provider for cfg: cfg.Region, or cfg.BaseURL with a region.
func New(cfg providers.Config) (providers.Provider, error) {
	region, base := cfg.Region, strings.TrimRight(cfg.BaseURL, "/")
	if region != "" && !regionPattern.MatchString(region) {
		return nil, fmt.Errorf("provider %q: %q is not an AWS region", cfg.Name, region)
	}
	if base == "" {
		if region == "" {
			return nil, fmt.Errorf("provider %q: bedrock needs a region (or a base_url and a region)", cfg.Name)
		}
		base = "https://bedrock-runtime." + region + ".amazonaws.com"
	}
	base, ok := dialect.Origin(base, "")
	if !ok {
		return nil, fmt.Errorf("provider %q: base_url must be an absolute http or https URL without a query", cfg.Name)
	}
	if region == "" {
		u, _ := url.Parse(base) // Origin parsed it already
		if m := hostPattern.FindStringSubmatch(u.Hostname()); m != nil {
			region = m[1]
		}
	}
	if region == "" {
		return nil, fmt.Errorf("provider %q: bedrock needs a region to sign requests with", cfg.Name)
	}
	return &Client{base: base, region: region, http: dialect.Client(cfg.Client), now: time.Now, header: dialect.Header(cfg.Headers)}, nil
}

// Complete answers a chat or embeddings request.
func (c *Client) Complete(ctx context.Context, call *providers.Call) (*schema.Response, error) {
	switch call.Request.Endpoint {
	case schema.EndpointChat:
		return c.chat(ctx, call)
	case schema.EndpointEmbeddings:
		return c.embed(ctx, call)
	}
	return nil, dialect.Unsupported("bedrock", call.Request.Endpoint)
}

func (c *Client) chat(ctx context.Context, call *providers.Call) (*schema.Response, error) {
	tr, body, err := translate(call)
	if err != nil {
		return nil, err
	}
	resp, err := c.post(ctx, call, "converse", body, "application/json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := openai.ReadBody(resp.Body, resp.ContentLength, maxBodyBytes)
	if err != nil {
		return nil, readFailure(ctx, err, call.Key)
	}
	return tr.answer(raw, c.envelope(resp.Header, call))
}

// answer translates a Converse body into the OpenAI response.
func (t *translation) answer(raw []byte, env envelope) (*schema.Response, error) {
	var cr converseResponse
	if err := json.Unmarshal(raw, &cr); err != nil || cr.Output.Message == nil {
		return nil, apierr.Upstream("upstream returned a body that is not a Converse answer")
	}
	body, err := json.Marshal(t.chatResponse(&cr, env))
	if err != nil {
		return nil, apierr.From(err)
	}
	return &schema.Response{Body: body, Usage: cr.Usage.normalize(), HasUsage: cr.Usage != nil}, nil
}

// Stream sends a ConverseStream request.
func (c *Client) Stream(ctx context.Context, call *providers.Call) (schema.Stream, error) {
	if call.Request.Endpoint != schema.EndpointChat {
		return nil, dialect.Unsupported("bedrock", call.Request.Endpoint)
	}
	tr, body, err := translate(call)
	if err != nil {
		return nil, err
	}
	resp, err := c.post(ctx, call, "converse-stream", body, "application/vnd.amazon.eventstream")
	if err != nil {
		return nil, err
	}
	if !dialect.HasMediaType(resp.Header.Get("Content-Type"), "application/vnd.amazon.eventstream") {
		resp.Body.Close()
		return nil, apierr.Upstream("upstream did not answer with an event stream")
	}
	st := newTranslator(c.envelope(resp.Header, call), tr.jsonMode, call.Request.IncludeUsage, call.Key)
	return newStream(ctx, resp, st), nil
}

// translate decodes the client's chat body and builds the Converse body.
func translate(call *providers.Call) (*translation, []byte, error) {
	cr, err := dialect.DecodeChat(call.Request.Body)
	if err != nil {
		return nil, nil, err
	}
	tr, err := toConverse(cr)
	if err != nil {
		return nil, nil, err
	}
	body, err := dialect.Encode(&tr.req)
	if err != nil {
		return nil, nil, err
	}
	return tr, body, nil
}

// envelope is the id, model and time of an answer. Bedrock sends no completion id; the
// request id AWS assigned stands in for it.
func (c *Client) envelope(h http.Header, call *providers.Call) envelope {
	id := h.Get("x-amzn-RequestId")
	if id == "" || len(id) > 128 {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	return envelope{id: "chatcmpl-" + id, model: call.Model, created: c.now().Unix()}
}

// post sends body to /model/{model}/{op} and returns a 2xx response; any other status
// is read, closed and returned as an *apierr.Error.
func (c *Client) post(ctx context.Context, call *providers.Call, op string, body []byte, accept string) (*http.Response, error) {
	target := c.base + "/model/" + escapeSegment(call.Model) + "/" + op
	// A copy: the signer writes into the header's slices.
	req, err := dialect.NewPost(ctx, target, c.header, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	if err := authorize(ctx, req, body, call.Key, c.region, signingName, c.now()); err != nil {
		return nil, apierr.From(errors.New("signing the upstream request failed"))
	}
	return dialect.Do(ctx, c.http, req, c.base, call.Key, func(resp *http.Response) *apierr.Error {
		raw, _ := openai.ReadBody(resp.Body, resp.ContentLength, maxErrorBodyBytes)
		return statusError(resp.StatusCode, resp.Header, raw, call.Key, c.now())
	})
}

// escapeSegment escapes a path segment the way the AWS SDKs do: every byte but the
// unreserved ones (letters, digits, - _ . ~) is percent-encoded, ':' and '/' included.
func escapeSegment(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// readFailure maps a failure to read a complete answer.
func readFailure(ctx context.Context, err error, key schema.Secret) *apierr.Error {
	if errors.Is(err, openai.ErrTooLarge) {
		return apierr.Upstream("upstream response is larger than 64 MiB").WithCause(err)
	}
	return openai.TransportError(ctx, err, "", key)
}
