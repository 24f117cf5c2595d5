package gemini

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers/dialect"
	"github.com/tollgate-llm/tollgate/providers/openai"
	"github.com/tollgate-llm/tollgate/schema"
)

// Detail types and reasons of google.rpc error details.
const (
	typeErrorInfo = "type.googleapis.com/google.rpc.ErrorInfo"
	typeRetryInfo = "type.googleapis.com/google.rpc.RetryInfo"
	reasonBadKey  = "API_KEY_INVALID"
	// reasonExpired is an expired key, which Gemini also answers with a 400.
	reasonExpired = "API_KEY_EXPIRED"
)

// maxRetryDelay caps RetryInfo.retryDelay, so that a bogus value cannot overflow.
const maxRetryDelay = 24 * time.Hour

// statusError maps a non-2xx answer. Google's body gives the message and an RPC status
// (INVALID_ARGUMENT, RESOURCE_EXHAUSTED, ...), which becomes the OpenAI code in lower
// case. Two cases are classified by the typed details, never by the message: a 400
// whose ErrorInfo reason is API_KEY_INVALID is an authentication failure (401
// invalid_api_key), and RetryInfo.retryDelay is the wait to honour (else retry-after).
func statusError(status int, h http.Header, body []byte, key schema.Secret, now time.Time) *apierr.Error {
	e := dialect.StatusError(status)
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil && eb.Error != nil {
		fillError(e, &eb, key)
	}
	dialect.FillDefaults(e, status)
	if e.Code == "" && e.Status == http.StatusTooManyRequests {
		e.Code = "rate_limit_exceeded"
	}
	e.Retryable = openai.RetryableStatus(e.Status)
	if e.RetryAfter == 0 {
		e.RetryAfter = openai.RetryAfter(h, now)
	}
	return e
}

// fillError copies what Google's error body says into e.
func fillError(e *apierr.Error, eb *errorBody, key schema.Secret) {
	g := eb.Error
	e.Message = openai.Sanitize(g.Message, key)
	if g.Status != "" {
		e.Code = openai.Sanitize(strings.ToLower(g.Status), key)
	}
	for _, d := range g.Details {
		switch d.Type {
		case typeErrorInfo:
			if d.Reason == reasonBadKey || d.Reason == reasonExpired {
				e.Status, e.Type, e.Code = http.StatusUnauthorized, "authentication_error", "invalid_api_key"
			}
		case typeRetryInfo:
			e.RetryAfter = retryDelay(d.RetryDelay)
		}
	}
}

// retryDelay parses a google.protobuf.Duration in JSON form ("36s", "1.5s").
func retryDelay(s string) time.Duration {
	v, ok := strings.CutSuffix(strings.TrimSpace(s), "s")
	if !ok {
		return 0
	}
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(secs) || secs <= 0 {
		return 0
	}
	if secs >= maxRetryDelay.Seconds() {
		return maxRetryDelay
	}
	return time.Duration(secs * float64(time.Second))
}

// embeddedError returns the error a 200 body or stream event carries, or nil. Its
// status is the error's own code when that is an HTTP error status, else 502.
func embeddedError(body []byte, key schema.Secret, now time.Time) *apierr.Error {
	var eb errorBody
	if json.Unmarshal(body, &eb) != nil || eb.Error == nil {
		return nil
	}
	status := eb.Error.Code
	if status < 400 || status > 599 {
		status = http.StatusBadGateway
	}
	e := statusError(status, http.Header{}, body, key, now)
	if e.Message == fmt.Sprintf("upstream returned status %d", status) {
		e.Message = "upstream reported an error"
	}
	return e
}
