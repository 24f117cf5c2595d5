// Package anthropic is the Anthropic Messages dialect: it translates OpenAI chat
// requests to POST {base}/v1/messages and the answers, streamed or not, back to OpenAI's
// shapes. The base URL is Anthropic's origin (https://api.anthropic.com), as its SDKs
// take it; the key travels in x-api-key, never in the URL, with anthropic-version
// (Config.APIVersion, default 2023-06-01). Operator headers such as anthropic-beta are
// sent on every request.
//
// Requests. System and developer messages join (blank-line separated) into the top-level
// system prompt. max_tokens is required by Anthropic: the client's max_completion_tokens
// or max_tokens, else the model's output limit from a table of known Claude models
// (MaxOutputTokens; DefaultMaxTokens for unknown models). Text and image parts become
// text and image blocks (base64 data: URLs a base64 source, http(s) URLs a url source);
// function tools become tools with input_schema; tool_choice auto, none, required and a
// named function become auto, none, any and tool; parallel_tool_calls false becomes
// disable_parallel_tool_use. Assistant tool calls become tool_use blocks and tool
// messages tool_result blocks of a user message; consecutive messages of one role merge
// (tool results first), as Anthropic needs alternating roles. stop becomes
// stop_sequences (whitespace-only ones dropped, Anthropic rejects them); temperature
// (clamped to Anthropic's 0..1) and top_p pass through; user becomes metadata.user_id;
// reasoning_effort low, medium and high enables extended thinking with a 1024, 2048 or
// 4096 token budget, kept below max_tokens. response_format json_schema uses structured
// outputs (output_config.format, Claude 4.5 and later); json_object, which Anthropic
// has no mode for, adds an instruction to answer with a JSON object to the system
// prompt. n > 1 and logprobs are refused with a 400; seed and the penalties have no
// Anthropic equivalent and are dropped. Embeddings and legacy completions are a 400
// unsupported_endpoint: Anthropic has neither.
//
// Answers. Text blocks join into the content, tool_use blocks become tool calls, and
// thinking blocks are not shown (their tokens are in the usage). stop_reason end_turn,
// stop_sequence and pause_turn finish with "stop", max_tokens with "length", tool_use
// with "tool_calls", refusal with "content_filter". Usage is normalised:
// prompt_tokens = input + cache reads + cache writes, cached_tokens = cache reads,
// cache_write_tokens = cache writes, completion_tokens = output_tokens (thinking
// included), reasoning_tokens = output_tokens_details.thinking_tokens when reported.
//
// Streams are translated event by event (stream.go); a stream's usage is the same as
// the unstreamed answer's. Errors are *apierr.Error with the upstream status; 529
// overloaded_error, 429, 408, 409 and 5xx are retryable, and so is a stream's
// overloaded error event.
package anthropic

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/dialect"
	"github.com/tollgate-llm/tollgate/providers/openai"
	"github.com/tollgate-llm/tollgate/schema"
)

var _ providers.Provider = (*Client)(nil)

// New builds an Anthropic provider for cfg: BaseURL (default DefaultBaseURL) is an
// origin without a query; APIVersion defaults to DefaultVersion.
func New(cfg providers.Config) (providers.Provider, error) {
	base, ok := dialect.Origin(cfg.BaseURL, DefaultBaseURL)
	if !ok {
		return nil, fmt.Errorf("provider %q: base_url must be an absolute http or https URL without a query", cfg.Name)
	}
	version := cfg.APIVersion
	if version == "" {
		version = DefaultVersion
	}
	h := dialect.Header(cfg.Headers)
	h.Set("Anthropic-Version", version)
	h.Del("X-Api-Key")
	return &Client{name: cfg.Name, base: base, version: version, http: dialect.Client(cfg.Client), header: h, now: time.Now}, nil
}

// Complete sends a non-streamed chat request and translates the answer.
func (c *Client) Complete(ctx context.Context, call *providers.Call) (*schema.Response, error) {
	if call.Request.Endpoint != schema.EndpointChat {
		return nil, unsupported(c.name, call.Request.Endpoint)
	}
	resp, err := c.send(ctx, call, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		return nil, openai.TransportError(ctx, err, c.base, call.Key)
	}
	if len(body) > maxBodyBytes {
		return nil, apierr.Upstream("upstream response is larger than 64 MiB")
	}
	return translateResponse(body, c.now().Unix(), rateLimits(resp.Header))
}

// translateResponse decodes a Messages answer and renders it as OpenAI's.
func translateResponse(body []byte, created int64, limits map[string]string) (*schema.Response, error) {
	var m messageResponse
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, apierr.Upstream("upstream returned a non-JSON response").WithCause(err)
	}
	cr, u, err := convertResponse(&m, created)
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(cr)
	if err != nil {
		return nil, apierr.From(err)
	}
	return &schema.Response{Body: out, Usage: u, HasUsage: true, RateLimit: limits}, nil
}

// Stream sends a streamed chat request; chunks are read from the returned Stream.
func (c *Client) Stream(ctx context.Context, call *providers.Call) (schema.Stream, error) {
	if call.Request.Endpoint != schema.EndpointChat {
		return nil, unsupported(c.name, call.Request.Endpoint)
	}
	resp, err := c.send(ctx, call, true)
	if err != nil {
		return nil, err
	}
	if !dialect.HasMediaType(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body.Close()
		return nil, apierr.Upstream("upstream did not answer with an event stream")
	}
	return newStream(ctx, resp.Body, call, c.now().Unix()), nil
}

// send translates the call, posts it and returns a 2xx response; other statuses are
// read, closed and returned as an *apierr.Error.
func (c *Client) send(ctx context.Context, call *providers.Call, stream bool) (*http.Response, error) {
	req, err := dialect.DecodeChat(call.Request.Body)
	if err != nil {
		return nil, err
	}
	mr, err := buildRequest(req, call.Model, stream)
	if err != nil {
		return nil, err
	}
	body, err := dialect.Encode(mr)
	if err != nil {
		return nil, err
	}
	hr, err := dialect.NewPost(ctx, c.base+messagesPath, c.header, body)
	if err != nil {
		return nil, err
	}
	if stream {
		hr.Header.Set("Accept", "text/event-stream")
	} else {
		hr.Header.Set("Accept", "application/json")
	}
	if !call.Key.Empty() {
		hr.Header.Set("X-Api-Key", call.Key.Reveal())
	}
	return dialect.Do(ctx, c.http, hr, c.base, call.Key, func(resp *http.Response) *apierr.Error {
		errBody, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
		if ctx.Err() != nil {
			return openai.ContextError(ctx)
		}
		return statusError(resp.StatusCode, resp.Header, errBody, call.Key, c.now())
	})
}

// rateLimits collects anthropic-ratelimit-* and retry-after headers, keyed in lower
// case, for observability.
func rateLimits(h http.Header) map[string]string {
	var out map[string]string
	for k, v := range h {
		lk := strings.ToLower(k)
		if len(v) == 0 || !(strings.HasPrefix(lk, "anthropic-ratelimit-") || lk == "retry-after") {
			continue
		}
		if out == nil {
			out = make(map[string]string, 16)
		}
		out[lk] = v[0]
	}
	return out
}
