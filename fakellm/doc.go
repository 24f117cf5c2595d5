// Package fakellm is a faithful fake LLM provider with fault injection, for tests,
// benchmarks and the offline demo (`tollgate serve --demo`). A *Server is an
// http.Handler; Start serves it on a loopback address in-process, and cmd/fakellm runs it
// as its own binary.
//
// # Dialects
//
// The OpenAI dialect (openai*.go) serves POST /v1/chat/completions, POST /v1/completions,
// POST /v1/embeddings, GET /v1/models and GET /v1/models/{model}, with OpenAI's JSON
// shapes, stream framing, error bodies and response headers (x-request-id,
// openai-processing-ms, x-ratelimit-*). Other dialects plug in through the dialect
// interface (server.go) and share auth, fault injection, rate limits, text generation,
// stream pacing and statistics.
//
// The Anthropic dialect (anthropic*.go) serves POST /v1/messages and
// /v1/messages/count_tokens. It wants the key in x-api-key (401 authentication_error
// without it or with a wrong one) and an anthropic-version header (400 without it),
// refuses what the Messages API refuses (a missing max_tokens, a system role in
// messages, a first turn that is not the user's, empty text blocks, tool_result blocks
// without a tool_use in the turn before and tool_use blocks left unanswered, unknown
// top-level fields, bad images), answers with request-id and anthropic-ratelimit-*
// headers, and streams event:/data: pairs whose names equal their data's type:
// message_start, a ping, content blocks, message_delta with cumulative usage, and
// message_stop. Its errors have Anthropic's shape; overload is a 529 overloaded_error,
// and error_midstream sends an error event after the 200. A system prompt that mentions
// JSON gets a JSON answer (Anthropic has no JSON-object mode, a model follows the
// instruction), as does output_config.format. The reasoning knob adds a thinking block
// and output_tokens_details.thinking_tokens. The no_usage mode does not apply: Anthropic
// always reports usage.
//
// # Generated answers
//
// Answers are deterministic. An answer is Chunks words from a fixed vocabulary (see Text),
// each a common English word that real tokenizers count as one token, so
// completion_tokens equals the number of words and a tokenizer count of a stream cut short
// matches what was produced. prompt_tokens is the whitespace word count of the prompt
// text plus 3 per chat message. A max_tokens or max_completion_tokens below Chunks
// truncates the answer with finish_reason "length"; legacy completions default
// max_tokens to 16, as OpenAI does. A chat request with tools answers with a tool call
// (finish_reason "tool_calls") when tool_choice is "required" or names a function, or when
// the last user message contains "call tool"; the called tool is the named one, else the
// first tool whose name appears in that message, else the first tool. Its arguments are
// built from the tool's JSON Schema (first enum value, "fake" for strings, 1 for
// integers, 1.5 for numbers, true, [] and {}) and stream in up to Chunks fragments, each
// counted as one completion token. A conversation that ends with a tool result gets a
// text answer unless tool_choice forces a call. In JSON mode (response_format json_object
// or json_schema) the answer is a JSON object, built from the schema like tool
// arguments, or {"answer": Text(Chunks)} without one, streamed in up to Chunks
// fragments, one token each. Stop sequences cut the answer just before the earliest one
// it contains, with finish_reason "stop". Embeddings are unit vectors derived from a
// hash of the model and the input, dimensions long (default 8), as float or base64 of
// little-endian float32.
//
// # Timing
//
// Latency passes before every answer, injected errors included; only refusals (bad
// key, bad knobs, rate limits) come at once. A stream then waits TTFT before
// its first chunk (status and headers go out with it) and ChunkDelay between generated
// chunks; the role, finish, usage and [DONE] events follow without delay. A
// non-streaming answer waits as long as the same stream would take:
// TTFT + (chunks-1)*ChunkDelay; embeddings and model lists wait only Latency. A client that goes away during any wait or write ends
// the request at once and counts in Cancelled.
//
// # Per-request knobs
//
// Every Options field that shapes one answer can be overridden per request, by header
// or by a "fakellm" object in the JSON body (a gateway forwards unknown body fields but
// not client headers). The body wins over headers, headers win over Options.
//
//	header                     body field          value
//	X-Fake-Latency             latency_ms          Go duration ("200ms") or milliseconds
//	X-Fake-TTFT                ttft_ms             same
//	X-Fake-Chunk-Delay         chunk_delay_ms      same
//	X-Fake-Chunks              chunks              0..10000
//	X-Fake-Error-Rate          error_rate          0..1
//	X-Fake-Error-Status        error_status        400..599
//	X-Fake-Mode                mode                see the Mode constants
//	X-Fake-Cached-Tokens       cached_tokens       0..2^30
//	X-Fake-Cache-Write-Tokens  cache_write_tokens  0..2^30
//	X-Fake-Reasoning-Tokens    reasoning_tokens    0..2^30
//
// The three token knobs (Options.CachedTokens, CacheWriteTokens, ReasoningTokens) make
// every chat answer report usage as if the prompt had that many more tokens read from
// and written to a prompt cache, and the model had thought that many tokens before its
// visible answer. Each dialect reports them in its own usage fields: OpenAI adds cache
// reads and writes to prompt_tokens (cached_tokens = reads; OpenAI has no cache-write
// field) and reasoning to completion_tokens (reasoning_tokens); Anthropic reports
// input_tokens without them, cache_read_input_tokens, cache_creation_input_tokens, and
// output_tokens including reasoning. The visible answer is unchanged.
//
// An error status given per request without an error rate means rate 1: the request
// fails with that status. Invalid knob values answer 400, so typos do not pass silently.
//
// # Errors and limits
//
// Auth comes first: a missing key, or one not in Options.Keys when that is set, answers
// 401 without echoing the key. Then rate limits (when RateLimitRequests or
// RateLimitTokens are set; fixed one-minute windows per key, tokens charged with each
// answer's usage), Latency, injected errors, then the garbage and hang modes, then the
// endpoint itself. Injected 429s carry retry-after, retry-after-ms and x-ratelimit-*
// headers with remaining 0; 5xx errors have type "server_error". Without configured
// limits the x-ratelimit-* headers report 10000 requests and 30000000 tokens per minute
// and never run out.
//
// Unknown paths answer 404 "Invalid URL", a wrong method 405. Model checks are by name
// only: any served model works on any endpoint.
package fakellm
