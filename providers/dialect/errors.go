package dialect

import (
	"fmt"
	"net/http"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers/openai"
)

// StatusError starts the error for a non-2xx upstream answer: Kind provider with the
// upstream status, or 502 for a status that is not an HTTP error status (a redirect
// the client did not follow, a made-up code).
func StatusError(status int) *apierr.Error {
	e := &apierr.Error{Kind: apierr.KindProvider, Status: status}
	if status < 400 || status > 599 {
		e.Status = http.StatusBadGateway
	}
	return e
}

// FillDefaults gives e what the upstream's body did not: a message naming the upstream
// status, and OpenAI's error type for e.Status.
func FillDefaults(e *apierr.Error, status int) {
	if e.Message == "" {
		e.Message = fmt.Sprintf("upstream returned status %d", status)
	}
	if e.Type == "" {
		e.Type = openai.ErrorType(e.Status)
	}
}

// CutShort is the retryable 502 of a stream that failed or ended before its answer
// did: another attempt may well succeed.
func CutShort(msg string, cause error) *apierr.Error {
	e := apierr.Upstream(msg).WithCause(cause)
	e.Retryable = true
	return e
}
