package anthropic

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers/dialect"
	"github.com/tollgate-llm/tollgate/providers/openai"
	"github.com/tollgate-llm/tollgate/schema"
)

// StatusOverloaded is Anthropic's 529: the API is overloaded for every customer. It
// is retryable, like 5xx.
const StatusOverloaded = 529

// errorKinds maps Anthropic's error types to their HTTP status (for stream error
// events, which carry none) and OpenAI's type and code.
var errorKinds = map[string]struct {
	status    int
	typ, code string
}{
	"invalid_request_error": {http.StatusBadRequest, "invalid_request_error", ""},
	"authentication_error":  {http.StatusUnauthorized, "authentication_error", "invalid_api_key"},
	"billing_error":         {http.StatusPaymentRequired, "insufficient_quota", "insufficient_quota"},
	"permission_error":      {http.StatusForbidden, "permission_error", "permission_denied"},
	"not_found_error":       {http.StatusNotFound, "invalid_request_error", "not_found"},
	"request_too_large":     {http.StatusRequestEntityTooLarge, "invalid_request_error", "request_too_large"},
	"rate_limit_error":      {http.StatusTooManyRequests, "rate_limit_error", "rate_limit_exceeded"},
	"api_error":             {http.StatusInternalServerError, "upstream_error", "upstream_error"},
	"timeout_error":         {http.StatusGatewayTimeout, "timeout", "upstream_timeout"},
	"overloaded_error":      {StatusOverloaded, "upstream_error", "overloaded"},
}

// statusError maps a non-2xx answer to an *apierr.Error: the upstream status, OpenAI's
// type and code for Anthropic's error type, the message (key redacted), and retry
// advice from x-should-retry (as Anthropic's SDKs honour it), the status, and
// retry-after-ms / retry-after.
func statusError(status int, h http.Header, body []byte, key schema.Secret, now time.Time) *apierr.Error {
	e := dialect.StatusError(status)
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil && eb.Error != nil {
		fill(e, eb.Error, key)
	}
	dialect.FillDefaults(e, status)
	switch strings.ToLower(strings.TrimSpace(h.Get("x-should-retry"))) {
	case "true":
		e.Retryable = true
	case "false":
	default:
		e.Retryable = openai.RetryableStatus(status)
	}
	e.RetryAfter = openai.RetryAfter(h, now)
	return e
}

// eventError maps a stream's error event; its status comes from the error type
// (overloaded_error is a retryable 529).
func eventError(d *errorDetail, key schema.Secret) *apierr.Error {
	e := &apierr.Error{Kind: apierr.KindProvider, Status: http.StatusBadGateway}
	if k, ok := errorKinds[d.Type]; ok {
		e.Status = k.status
	}
	fill(e, d, key)
	if e.Message == "" {
		e.Message = "upstream reported an error mid-stream"
	}
	if e.Type == "" {
		e.Type = openai.ErrorType(e.Status)
	}
	e.Retryable = openai.RetryableStatus(e.Status)
	return e
}

// fill copies the upstream's error into e, in OpenAI's vocabulary where there is one.
func fill(e *apierr.Error, d *errorDetail, key schema.Secret) {
	e.Message = openai.Sanitize(d.Message, key)
	if k, ok := errorKinds[d.Type]; ok {
		e.Type, e.Code = k.typ, k.code
		return
	}
	e.Type = openai.Sanitize(d.Type, key)
}

// unsupported is the answer for an endpoint Anthropic does not have.
func unsupported(name string, ep schema.Endpoint) *apierr.Error {
	return apierr.New(apierr.KindCaller, http.StatusBadRequest, "invalid_request_error", "unsupported_endpoint",
		fmt.Sprintf("provider %q (anthropic) does not serve the %s endpoint", name, ep))
}
