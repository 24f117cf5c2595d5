package fakellm

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// openAI is the OpenAI dialect: Bearer auth, OpenAI's error body and headers.
type openAI struct{}

var _ dialect = openAI{}

const (
	systemFingerprint = "fp_fakellm0"
	modelCreated      = 1686935002
)

func (openAI) routes() []route {
	return []route{
		{method: http.MethodPost, path: "/v1/chat/completions", handle: handleChat},
		{method: http.MethodPost, path: "/v1/completions", handle: handleCompletions},
		{method: http.MethodPost, path: "/v1/embeddings", handle: handleEmbeddings},
		{method: http.MethodGet, path: "/v1/models", handle: handleModels},
		{method: http.MethodGet, path: "/v1/models/", prefix: true, handle: handleModel},
	}
}

func (openAI) credential(r *http.Request) string {
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(key)
}

func (openAI) setHeaders(c *call) {
	h := c.w.Header()
	h.Set("x-request-id", c.id)
	h.Set("openai-processing-ms", c.processingMillis())
	h.Set("openai-version", "2020-10-01")
	st := c.rate
	h.Set("x-ratelimit-limit-requests", strconv.Itoa(st.limitRequests))
	h.Set("x-ratelimit-remaining-requests", strconv.Itoa(st.remainingRequests))
	h.Set("x-ratelimit-reset-requests", formatReset(st.resetRequests))
	h.Set("x-ratelimit-limit-tokens", strconv.Itoa(st.limitTokens))
	h.Set("x-ratelimit-remaining-tokens", strconv.Itoa(st.remainingTokens))
	h.Set("x-ratelimit-reset-tokens", formatReset(st.resetTokens))
}

// openAIError is OpenAI's error body; all four keys are always present.
type openAIError struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func newOpenAIError(e *apiError) openAIError {
	var body openAIError
	body.Error.Message = e.Message
	body.Error.Type = e.Type
	if body.Error.Type == "" {
		body.Error.Type = openAIErrorType(e.Status)
	}
	if e.Param != "" {
		body.Error.Param = &e.Param
	}
	if e.Code != "" {
		body.Error.Code = &e.Code
	}
	return body
}

func openAIErrorType(status int) string {
	switch {
	case status == http.StatusForbidden:
		return "permission_error"
	case status == http.StatusTooManyRequests:
		return "requests"
	case status >= 500:
		return "server_error"
	}
	return "invalid_request_error"
}

func (openAI) writeError(c *call, e *apiError) {
	if e.RetryAfter > 0 {
		h := c.w.Header()
		h.Set("retry-after", strconv.FormatInt(int64(math.Ceil(e.RetryAfter.Seconds())), 10))
		h.Set("retry-after-ms", strconv.FormatInt(e.RetryAfter.Milliseconds(), 10))
	}
	c.writeJSON(e.Status, newOpenAIError(e))
}

// openAIErrorEvent is the data of a mid-stream error event.
func openAIErrorEvent(status int) sseEvent {
	b, _ := json.Marshal(newOpenAIError(errInjected(status)))
	return sseEvent{data: b}
}

// decodeBody decodes the request body into v, answering 400 in OpenAI's words when it
// cannot.
func decodeBody(c *call, v any) bool {
	err := json.Unmarshal(c.body, v)
	if err == nil {
		return true
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		msg := fmt.Sprintf("Invalid type for '%s': expected %s, but got %s.", typeErr.Field, typeErr.Type, typeErr.Value)
		c.fail(errBadRequest(msg, typeErr.Field, "invalid_type"))
		return false
	}
	c.fail(errBadRequest("We could not parse the JSON body of your request. (HINT: This likely means you aren't "+
		"using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", "", ""))
	return false
}

// checkModel answers 400 for a missing model and 404 for one the fake does not serve.
func checkModel(c *call, model string) bool {
	if model == "" {
		c.fail(errBadRequest("you must provide a model parameter", "", ""))
		return false
	}
	if !c.s.servesModel(model) {
		c.fail(errModelNotFound(model))
		return false
	}
	return true
}

// checkLimit answers 400 when a token limit is set below 1.
func checkLimit(c *call, name string, limit *int) bool {
	if limit != nil && *limit < 1 {
		c.fail(errBadRequest(fmt.Sprintf("Invalid '%s': integer below minimum value. Expected a value >= 1, but got %d instead.",
			name, *limit), name, "integer_below_min_value"))
		return false
	}
	return true
}

// openAIUsage is OpenAI's usage object; chat adds the details.
type openAIUsage struct {
	PromptTokens            int            `json:"prompt_tokens"`
	CompletionTokens        int            `json:"completion_tokens"`
	TotalTokens             int            `json:"total_tokens"`
	PromptTokensDetails     *promptDetails `json:"prompt_tokens_details,omitempty"`
	CompletionTokensDetails *outputDetails `json:"completion_tokens_details,omitempty"`
}

type promptDetails struct {
	CachedTokens int `json:"cached_tokens"`
	AudioTokens  int `json:"audio_tokens"`
}

type outputDetails struct {
	ReasoningTokens          int `json:"reasoning_tokens"`
	AudioTokens              int `json:"audio_tokens"`
	AcceptedPredictionTokens int `json:"accepted_prediction_tokens"`
	RejectedPredictionTokens int `json:"rejected_prediction_tokens"`
}

func newUsage(prompt, completion int, details bool) *openAIUsage {
	u := &openAIUsage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion}
	if details {
		u.PromptTokensDetails = &promptDetails{}
		u.CompletionTokensDetails = &outputDetails{}
	}
	return u
}

// streamOptions is the request's stream_options.
type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// wantsUsage reports whether a stream ends with a usage chunk.
func wantsUsage(c *call, so *streamOptions) bool {
	return so != nil && so.IncludeUsage && c.k.mode != ModeNoUsage
}

// checkStreamOptions answers 400, as OpenAI does, for stream_options without stream.
func checkStreamOptions(c *call, stream bool, so *streamOptions) bool {
	if so != nil && !stream {
		c.fail(errBadRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
			"stream_options", "invalid_value"))
		return false
	}
	return true
}

// openAIModel is one entry of GET /v1/models.
type openAIModel struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

func newModel(id string) openAIModel {
	owner := "system"
	if strings.HasPrefix(id, "gpt-") {
		owner = "openai"
	}
	return openAIModel{ID: id, Object: "model", Created: modelCreated, OwnedBy: owner}
}

func handleModels(c *call) {
	list := struct {
		Object string        `json:"object"`
		Data   []openAIModel `json:"data"`
	}{Object: "list", Data: []openAIModel{}}
	for _, m := range c.s.opts.Models {
		if m != "*" {
			list.Data = append(list.Data, newModel(m))
		}
	}
	c.respond(list, 0)
}

func handleModel(c *call) {
	id := strings.TrimPrefix(c.r.URL.Path, "/v1/models/")
	if id == "" || !c.s.servesModel(id) {
		c.fail(errModelNotFound(id))
		return
	}
	c.respond(newModel(id), 0)
}
