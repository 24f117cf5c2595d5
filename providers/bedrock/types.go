package bedrock

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

var _ providers.Provider = (*Client)(nil)

// Client is a Bedrock provider speaking Converse and ConverseStream. It is safe for
// concurrent use.
type Client struct {
	base   string // scheme and host (and any path prefix), no trailing slash
	region string
	http   *http.Client
	header http.Header // operator headers and content type, sent on every request
	now    func() time.Time
}

// The Converse request body. Optional members are pointers or omitempty so that the
// JSON holds only what the client asked for.
type converseRequest struct {
	System          []systemBlock    `json:"system,omitempty"`
	Messages        []message        `json:"messages"`
	InferenceConfig *inferenceConfig `json:"inferenceConfig,omitempty"`
	ToolConfig      *toolConfig      `json:"toolConfig,omitempty"`
}

type systemBlock struct {
	Text string `json:"text"`
}

type message struct {
	Role    string         `json:"role"`
	Content []contentBlock `json:"content"`
}

// contentBlock is Converse's ContentBlock union: exactly one member is set.
type contentBlock struct {
	Text       *string     `json:"text,omitempty"`
	Image      *imageBlock `json:"image,omitempty"`
	ToolUse    *toolUse    `json:"toolUse,omitempty"`
	ToolResult *toolResult `json:"toolResult,omitempty"`
	// ReasoningContent appears in answers of reasoning models; OpenAI's chat format has
	// no place for it, so it is read and dropped.
	ReasoningContent json.RawMessage `json:"reasoningContent,omitempty"`
}

type imageBlock struct {
	Format string      `json:"format"`
	Source imageSource `json:"source"`
}

// imageSource holds the image bytes; encoding/json writes []byte as standard base64,
// which is how Converse's JSON carries blobs.
type imageSource struct {
	Bytes []byte `json:"bytes"`
}

type toolUse struct {
	ToolUseID string          `json:"toolUseId"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
}

type toolResult struct {
	ToolUseID string              `json:"toolUseId"`
	Content   []toolResultContent `json:"content"`
	Status    string              `json:"status,omitempty"`
}

type toolResultContent struct {
	Text *string `json:"text,omitempty"`
}

type inferenceConfig struct {
	MaxTokens     *int64   `json:"maxTokens,omitempty"`
	Temperature   *float64 `json:"temperature,omitempty"`
	TopP          *float64 `json:"topP,omitempty"`
	StopSequences []string `json:"stopSequences,omitempty"`
}

type toolConfig struct {
	Tools      []tool      `json:"tools"`
	ToolChoice *toolChoice `json:"toolChoice,omitempty"`
}

type tool struct {
	ToolSpec toolSpec `json:"toolSpec"`
}

type toolSpec struct {
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	InputSchema inputSchema `json:"inputSchema"`
}

type inputSchema struct {
	JSON json.RawMessage `json:"json"`
}

// toolChoice is the ToolChoice union: {"auto":{}}, {"any":{}} or {"tool":{"name":...}}.
type toolChoice struct {
	Auto *struct{}  `json:"auto,omitempty"`
	Any  *struct{}  `json:"any,omitempty"`
	Tool *namedTool `json:"tool,omitempty"`
}

type namedTool struct {
	Name string `json:"name"`
}

// converseResponse is the Converse answer.
type converseResponse struct {
	Output struct {
		Message *message `json:"message"`
	} `json:"output"`
	StopReason string      `json:"stopReason"`
	Usage      *tokenUsage `json:"usage"`
}

// tokenUsage is Converse's TokenUsage. inputTokens excludes the cache reads and writes,
// which are reported beside it (see the package doc).
type tokenUsage struct {
	InputTokens           int64 `json:"inputTokens"`
	OutputTokens          int64 `json:"outputTokens"`
	TotalTokens           int64 `json:"totalTokens"`
	CacheReadInputTokens  int64 `json:"cacheReadInputTokens"`
	CacheWriteInputTokens int64 `json:"cacheWriteInputTokens"`
}

// normalize converts Bedrock's usage to OpenAI's meaning: prompt tokens include the
// cache reads and writes.
func (u *tokenUsage) normalize() schema.Usage {
	if u == nil {
		return schema.Usage{}
	}
	prompt := u.InputTokens + u.CacheReadInputTokens + u.CacheWriteInputTokens
	return schema.Usage{
		PromptTokens: prompt, CompletionTokens: u.OutputTokens, TotalTokens: prompt + u.OutputTokens,
		CachedTokens: u.CacheReadInputTokens, CacheWriteTokens: u.CacheWriteInputTokens,
	}
}

// Stream events: the payload of each ConverseStream frame, named by its :event-type.
type (
	contentBlockStart struct {
		ContentBlockIndex int `json:"contentBlockIndex"`
		Start             struct {
			ToolUse *struct {
				ToolUseID string `json:"toolUseId"`
				Name      string `json:"name"`
			} `json:"toolUse"`
		} `json:"start"`
	}
	contentBlockDelta struct {
		ContentBlockIndex int `json:"contentBlockIndex"`
		Delta             struct {
			Text    *string `json:"text"`
			ToolUse *struct {
				Input string `json:"input"`
			} `json:"toolUse"`
		} `json:"delta"`
	}
	messageStop struct {
		StopReason string `json:"stopReason"`
	}
	metadataEvent struct {
		Usage *tokenUsage `json:"usage"`
	}
)

// stream translates one ConverseStream answer. Next and Usage are for one goroutine;
// Close may be called from any goroutine, any number of times.
type stream struct {
	ctx    context.Context
	body   io.Closer
	frames *frameReader
	tr     *streamTranslator
	// pending holds chunks produced by one event beyond the first.
	pending [][]byte
	err     error

	closeOnce sync.Once
	closeErr  error
}
