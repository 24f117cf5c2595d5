package fakellm

import (
	"fmt"
	"net/http"
	"time"
)

// apiError is a failure before a dialect renders it. Type, Code and Message use OpenAI's
// vocabulary; other dialects map them to their own shapes.
type apiError struct {
	Status  int
	Type    string // "" derives the type from Status
	Code    string // "" renders as null
	Param   string // "" renders as null
	Message string
	// RetryAfter, when positive, is sent as retry-after and retry-after-ms.
	RetryAfter time.Duration
}

func errUnauthorized(missing bool) *apiError {
	msg := "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."
	if missing {
		msg = "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
	}
	return &apiError{Status: http.StatusUnauthorized, Type: "invalid_request_error", Code: "invalid_api_key", Message: msg}
}

func errBadRequest(msg, param, code string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: "invalid_request_error", Code: code, Param: param, Message: msg}
}

func errModelNotFound(model string) *apiError {
	return &apiError{
		Status: http.StatusNotFound, Type: "invalid_request_error", Code: "model_not_found", Param: "model",
		Message: fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", model),
	}
}

func errServer(msg string) *apiError {
	return &apiError{Status: http.StatusInternalServerError, Type: "server_error", Message: msg}
}

func errRoute(status int, r *http.Request) *apiError {
	msg := fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path)
	if status == http.StatusMethodNotAllowed {
		msg = fmt.Sprintf("Invalid method for URL (%s %s)", r.Method, r.URL.Path)
	}
	return &apiError{Status: status, Type: "invalid_request_error", Message: msg}
}

// errInjected is the error a request gets when fault injection makes it fail.
func errInjected(status int) *apiError {
	e := &apiError{Status: status, Message: fmt.Sprintf("fakellm: injected error (status %d).", status)}
	switch {
	case status == http.StatusTooManyRequests:
		e.Type, e.Code, e.RetryAfter = "requests", "rate_limit_exceeded", time.Second
		e.Message = "Rate limit reached for requests. Please try again in 1s."
	case status == http.StatusUnauthorized:
		return errUnauthorized(false)
	case status == http.StatusServiceUnavailable:
		e.Type, e.Message = "server_error", "The engine is currently overloaded, please try again later."
	case status >= 500:
		e.Type, e.Message = "server_error", "The server had an error while processing your request. Sorry about that!"
	}
	return e
}

// errRateLimited is the 429 of an exhausted rate-limit window; kind is "requests" or
// "tokens".
func errRateLimited(kind string, limit, used int, retry time.Duration) *apiError {
	unit := "requests per min (RPM)"
	if kind == "tokens" {
		unit = "tokens per min (TPM)"
	}
	return &apiError{
		Status: http.StatusTooManyRequests, Type: kind, Code: "rate_limit_exceeded", RetryAfter: retry,
		Message: fmt.Sprintf("Rate limit reached for fakellm on %s: Limit %d, Used %d, Requested 1. Please try again in %s.",
			unit, limit, used, formatReset(retry)),
	}
}
