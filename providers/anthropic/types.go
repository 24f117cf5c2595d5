package anthropic

import (
	"encoding/json"
	"net/http"
	"time"
)

const (
	// DefaultBaseURL is Anthropic's origin; the Messages path is appended to it.
	DefaultBaseURL = "https://api.anthropic.com"
	// DefaultVersion is the anthropic-version header sent when the configuration names
	// none.
	DefaultVersion = "2023-06-01"

	messagesPath = "/v1/messages"
	// maxBodyBytes caps a complete response; larger ones are a 502.
	maxBodyBytes = 64 << 20
	// maxErrorBodyBytes caps an error response; only its first bytes matter.
	maxErrorBodyBytes = 1 << 20
	// maxEventBytes caps one SSE line or event of a stream.
	maxEventBytes = 16 << 20
)

// Client is the Anthropic Messages dialect. It is safe for concurrent use.
type Client struct {
	name    string // the operator's provider name, for error messages
	base    string
	version string
	http    *http.Client
	header  http.Header // operator headers, content type and version; no credential
	now     func() time.Time
}

// messagesRequest is the body of POST /v1/messages.
type messagesRequest struct {
	Model         string          `json:"model"`
	MaxTokens     int64           `json:"max_tokens"`
	System        string          `json:"system,omitempty"`
	Messages      []message       `json:"messages"`
	StopSequences []string        `json:"stop_sequences,omitempty"`
	Temperature   *float64        `json:"temperature,omitempty"`
	TopP          *float64        `json:"top_p,omitempty"`
	Stream        bool            `json:"stream,omitempty"`
	Tools         []tool          `json:"tools,omitempty"`
	ToolChoice    *toolChoice     `json:"tool_choice,omitempty"`
	Metadata      *metadata       `json:"metadata,omitempty"`
	Thinking      *thinkingConfig `json:"thinking,omitempty"`
	OutputConfig  *outputConfig   `json:"output_config,omitempty"`
}

type message struct {
	Role    string  `json:"role"`
	Content []block `json:"content"`
}

// block is a content block of any type; only the fields of its type are set.
type block struct {
	Type string `json:"type"`
	// text
	Text *string `json:"text,omitempty"`
	// image
	Source *imageSource `json:"source,omitempty"`
	// tool_use
	ID    string          `json:"id,omitempty"`
	Name  string          `json:"name,omitempty"`
	Input json.RawMessage `json:"input,omitempty"`
	// tool_result
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"`
	// thinking (responses only; never sent)
	Thinking string `json:"thinking,omitempty"`
}

type imageSource struct {
	Type      string `json:"type"` // base64 or url
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

type tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
	Strict      *bool           `json:"strict,omitempty"`
}

type toolChoice struct {
	Type                   string `json:"type"` // auto, any, tool, none
	Name                   string `json:"name,omitempty"`
	DisableParallelToolUse bool   `json:"disable_parallel_tool_use,omitempty"`
}

type metadata struct {
	UserID string `json:"user_id"`
}

type thinkingConfig struct {
	Type         string `json:"type"`
	BudgetTokens int64  `json:"budget_tokens"`
}

type outputConfig struct {
	Format *outputFormat `json:"format,omitempty"`
}

type outputFormat struct {
	Type   string          `json:"type"` // json_schema
	Schema json.RawMessage `json:"schema"`
}

// messageResponse is a Message: the body of a non-streamed answer, and the message of
// a stream's message_start event.
type messageResponse struct {
	ID           string  `json:"id"`
	Type         string  `json:"type"`
	Role         string  `json:"role"`
	Model        string  `json:"model"`
	Content      []block `json:"content"`
	StopReason   *string `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
	Usage        *usage  `json:"usage"`
}

// usage is Anthropic's usage object. Optional counts are pointers: in a stream's
// message_delta a present count replaces the one from message_start (the counts are
// cumulative) and an absent one leaves it alone.
type usage struct {
	InputTokens              *int64 `json:"input_tokens"`
	OutputTokens             *int64 `json:"output_tokens"`
	CacheCreationInputTokens *int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int64 `json:"cache_read_input_tokens"`
	OutputTokensDetails      *struct {
		ThinkingTokens *int64 `json:"thinking_tokens"`
	} `json:"output_tokens_details"`
}

// streamEvent is the data of any stream event; Type says which fields are set.
type streamEvent struct {
	Type         string           `json:"type"`
	Message      *messageResponse `json:"message"`
	Index        int              `json:"index"`
	ContentBlock *block           `json:"content_block"`
	Delta        *eventDelta      `json:"delta"`
	Usage        *usage           `json:"usage"`
	Error        *errorDetail     `json:"error"`
}

// eventDelta is a content_block_delta's or a message_delta's delta.
type eventDelta struct {
	Type         string  `json:"type"`
	Text         string  `json:"text"`
	PartialJSON  string  `json:"partial_json"`
	StopReason   *string `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
}

// errorBody is Anthropic's error response, also the data of a stream's error event.
type errorBody struct {
	Type      string       `json:"type"`
	Error     *errorDetail `json:"error"`
	RequestID string       `json:"request_id"`
}

type errorDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}
