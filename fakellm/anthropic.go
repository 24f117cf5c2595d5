package fakellm

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// anthropic is the Anthropic Messages dialect: POST /v1/messages and
// /v1/messages/count_tokens, the key in x-api-key, a required anthropic-version header,
// Anthropic's error body, request-id and anthropic-ratelimit-* headers. Overload errors
// use Anthropic's 529.
type anthropic struct{}

var _ dialect = anthropic{}

// anthropicVersions are the anthropic-version values the API accepts.
var anthropicVersions = []string{"2023-06-01", "2023-01-01"}

func (anthropic) routes() []route {
	return []route{
		{method: http.MethodPost, path: "/v1/messages", handle: handleMessages},
		{method: http.MethodPost, path: "/v1/messages/count_tokens", handle: handleCountTokens},
	}
}

func (anthropic) credential(r *http.Request) string {
	return strings.TrimSpace(r.Header.Get("X-Api-Key"))
}

func (anthropic) setHeaders(c *call) {
	h := c.w.Header()
	h.Set("request-id", c.id)
	h.Set("anthropic-organization-id", "fakellm-org")
	st := c.rate
	now := time.Now().UTC()
	set := func(kind string, limit, remaining int, reset time.Duration) {
		h.Set("anthropic-ratelimit-"+kind+"-limit", strconv.Itoa(limit))
		h.Set("anthropic-ratelimit-"+kind+"-remaining", strconv.Itoa(remaining))
		h.Set("anthropic-ratelimit-"+kind+"-reset", now.Add(max(reset, 0)).Format(time.RFC3339))
	}
	set("requests", st.limitRequests, st.remainingRequests, st.resetRequests)
	set("tokens", st.limitTokens, st.remainingTokens, st.resetTokens)
	set("input-tokens", st.limitTokens, st.remainingTokens, st.resetTokens)
	set("output-tokens", st.limitTokens, st.remainingTokens, st.resetTokens)
}

// anthropicErrorBody is Anthropic's error response, and the data of an error event.
type anthropicErrorBody struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

// anthropicErrorType is Anthropic's error type for a status.
func anthropicErrorType(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusPaymentRequired:
		return "billing_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusGatewayTimeout:
		return "timeout_error"
	case http.StatusServiceUnavailable, statusOverloaded:
		return "overloaded_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

// statusOverloaded is Anthropic's status for an API overloaded for everyone.
const statusOverloaded = 529

// anthropicErrorMessage rewrites the shared errors' OpenAI wording in Anthropic's.
func anthropicErrorMessage(c *call, e *apiError) string {
	switch {
	case e.Status == http.StatusUnauthorized && c.key == "":
		return "x-api-key header is required"
	case e.Status == http.StatusUnauthorized:
		return "invalid x-api-key"
	case e.Status == statusOverloaded || e.Status == http.StatusServiceUnavailable:
		return "Overloaded"
	case e.Status >= 500:
		return "Internal server error"
	}
	return e.Message
}

func newAnthropicError(c *call, e *apiError) anthropicErrorBody {
	b := anthropicErrorBody{Type: "error", RequestID: c.id}
	b.Error.Type = anthropicErrorType(e.Status)
	b.Error.Message = anthropicErrorMessage(c, e)
	return b
}

func (anthropic) writeError(c *call, e *apiError) {
	if e.RetryAfter > 0 {
		c.w.Header().Set("retry-after", strconv.FormatInt(int64(math.Ceil(e.RetryAfter.Seconds())), 10))
	}
	c.writeJSON(e.Status, newAnthropicError(c, e))
}

// anthropicBadRequest is a 400 invalid_request_error with Anthropic's message.
func anthropicBadRequest(msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: msg}
}
