package cohere

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers/dialect"
	"github.com/tollgate-llm/tollgate/providers/openai"
	"github.com/tollgate-llm/tollgate/schema"
)

// Cohere's own statuses beside the standard ones (its SDK's InvalidTokenError and
// ClientClosedRequestError).
const (
	statusInvalidToken  = 498
	statusClientClosed  = 499
	statusPaymentNeeded = http.StatusPaymentRequired
)

// statusCodes is the OpenAI type and code for a Cohere status; Cohere's body has only
// a message.
var statusCodes = map[int][2]string{
	http.StatusBadRequest:          {"invalid_request_error", "invalid_request"},
	http.StatusUnauthorized:        {"authentication_error", "invalid_api_key"},
	statusPaymentNeeded:            {"insufficient_quota", "payment_required"},
	http.StatusForbidden:           {"permission_error", "forbidden"},
	http.StatusNotFound:            {"invalid_request_error", "not_found"},
	http.StatusUnprocessableEntity: {"invalid_request_error", "unprocessable_entity"},
	http.StatusTooManyRequests:     {"rate_limit_error", "rate_limit_exceeded"},
}

// statusError maps a non-2xx answer, whose body is {"message": "..."} (sometimes with
// an "id"). 498, Cohere's invalid token, is a 401 invalid_api_key. 499 is Cohere saying
// the request was cancelled: the caller's own 499 when our context is done, else a
// retryable 499 (Cohere's advice is to try again).
func statusError(ctx context.Context, status int, h http.Header, body []byte, key schema.Secret, now time.Time) *apierr.Error {
	if status == statusClientClosed && ctx.Err() != nil {
		return openai.ContextError(ctx)
	}
	e := dialect.StatusError(status)
	switch status {
	case statusInvalidToken:
		e.Status = http.StatusUnauthorized
	case statusClientClosed:
		e.Type, e.Code = "invalid_request_error", "client_closed_request"
	}
	if tc, ok := statusCodes[e.Status]; ok && e.Type == "" {
		e.Type, e.Code = tc[0], tc[1]
	}
	var b struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.Message = openai.Sanitize(b.Message, key)
	}
	if e.Type == "" {
		e.Code = "upstream_error"
	}
	dialect.FillDefaults(e, status)
	e.Retryable = openai.RetryableStatus(e.Status) || status == statusClientClosed
	e.RetryAfter = openai.RetryAfter(h, now)
	return e
}
