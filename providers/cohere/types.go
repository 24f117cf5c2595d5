package cohere

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/tollgate-llm/tollgate/providers"
)

var _ providers.Provider = (*Client)(nil)

// Client is the Cohere provider. It is safe for concurrent use.
type Client struct {
	// base is the origin, e.g. https://api.cohere.com, without a trailing slash.
	base    string
	http    *http.Client
	headers http.Header
	now     func() time.Time
}

// The wire types below are Cohere's v2 API (snake_case), as its Python SDK declares
// them. Only the fields tollgate sends or reads are declared.

// chatRequest is the body of POST /v2/chat.
type chatRequest struct {
	Model            string          `json:"model"`
	Messages         []message       `json:"messages"`
	Stream           bool            `json:"stream"`
	Tools            []tool          `json:"tools,omitempty"`
	ToolChoice       string          `json:"tool_choice,omitempty"`
	ResponseFormat   *responseFormat `json:"response_format,omitempty"`
	MaxTokens        *int64          `json:"max_tokens,omitempty"`
	StopSequences    []string        `json:"stop_sequences,omitempty"`
	Temperature      *float64        `json:"temperature,omitempty"`
	P                *float64        `json:"p,omitempty"`
	Seed             *int64          `json:"seed,omitempty"`
	FrequencyPenalty *float64        `json:"frequency_penalty,omitempty"`
	PresencePenalty  *float64        `json:"presence_penalty,omitempty"`
}

// message is one v2 chat message. Content is a string, or an array of content items
// for user messages with images.
type message struct {
	Role       string     `json:"role"`
	Content    any        `json:"content,omitempty"`
	ToolCalls  []toolCall `json:"tool_calls,omitempty"`
	ToolPlan   string     `json:"tool_plan,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

// contentItem is a text or image_url content item.
type contentItem struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	Thinking string    `json:"thinking,omitempty"`
	ImageURL *imageURL `json:"image_url,omitempty"`
}

type imageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

type toolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function functionCall `json:"function"`
}

type functionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type tool struct {
	Type     string       `json:"type"`
	Function toolFunction `json:"function"`
}

type toolFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters"`
}

// responseFormat is {type: text | json_object, json_schema?}.
type responseFormat struct {
	Type       string          `json:"type"`
	JSONSchema json.RawMessage `json:"json_schema,omitempty"`
}

// chatResponse is the answer of a non-streamed /v2/chat.
type chatResponse struct {
	ID           string `json:"id"`
	FinishReason string `json:"finish_reason"`
	Message      struct {
		Content   []contentItem `json:"content"`
		ToolPlan  string        `json:"tool_plan"`
		ToolCalls []toolCall    `json:"tool_calls"`
	} `json:"message"`
	Usage *usage `json:"usage"`
}

// usage is Cohere's usage: what was billed, what the model processed (including the
// prompt template), and the prompt tokens read from the cache. The SDK declares every
// count as a float.
type usage struct {
	BilledUnits  *units   `json:"billed_units"`
	Tokens       *units   `json:"tokens"`
	CachedTokens *float64 `json:"cached_tokens"`
}

type units struct {
	InputTokens  *float64 `json:"input_tokens"`
	OutputTokens *float64 `json:"output_tokens"`
}

// streamEvent is one /v2/chat stream event, discriminated by type. Its delta differs
// by type; the fields of every kind are declared together.
type streamEvent struct {
	Type  string      `json:"type"`
	ID    string      `json:"id"`
	Index *int        `json:"index"`
	Delta *eventDelta `json:"delta"`
	// Message is set on an error object sent in place of an event.
	Message string `json:"message"`
}

type eventDelta struct {
	Message      *eventMessage `json:"message"`
	FinishReason string        `json:"finish_reason"`
	Usage        *usage        `json:"usage"`
	Error        string        `json:"error"`
}

// eventMessage is delta.message. Its content and tool_calls are objects in content
// and tool-call events but arrays in message-start, so they are decoded by type.
type eventMessage struct {
	Content   json.RawMessage `json:"content"`
	ToolCalls json.RawMessage `json:"tool_calls"`
}

type eventContent struct {
	Type     string  `json:"type"`
	Text     *string `json:"text"`
	Thinking *string `json:"thinking"`
}

type eventToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function *struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// embedRequest is the body of POST /v2/embed.
type embedRequest struct {
	Model           string   `json:"model"`
	Texts           []string `json:"texts"`
	InputType       string   `json:"input_type"`
	EmbeddingTypes  []string `json:"embedding_types"`
	OutputDimension *int     `json:"output_dimension,omitempty"`
}

type embedResponse struct {
	Embeddings struct {
		Float [][]float32 `json:"float"`
	} `json:"embeddings"`
	Meta *struct {
		BilledUnits *units `json:"billed_units"`
	} `json:"meta"`
}
