package bedrock

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers/openai"
	"github.com/tollgate-llm/tollgate/schema"
)

// streamStatus is the HTTP status of each exception ConverseStream can send in a frame
// (and of the others, should one appear there), keyed by lower-case exception name.
// Errors before the stream use the response status instead.
var streamStatus = map[string]int{
	"validationexception":           http.StatusBadRequest,
	"servicequotaexceededexception": http.StatusBadRequest,
	"accessdeniedexception":         http.StatusForbidden,
	"resourcenotfoundexception":     http.StatusNotFound,
	"modeltimeoutexception":         http.StatusRequestTimeout,
	"modelerrorexception":           http.StatusFailedDependency,
	"modelstreamerrorexception":     http.StatusFailedDependency,
	"throttlingexception":           http.StatusTooManyRequests,
	"modelnotreadyexception":        http.StatusTooManyRequests,
	"internalserverexception":       http.StatusInternalServerError,
	"serviceunavailableexception":   http.StatusServiceUnavailable,
}

// authExceptions are AWS's answers to a bad credential (unknown access key, wrong
// secret, malformed or expired signature or token, missing auth). AWS sends them as
// 403; the client sees 401, like every other provider's bad key.
var authExceptions = map[string]bool{
	"unrecognizedclientexception":         true,
	"invalidsignatureexception":           true,
	"incompletesignatureexception":        true,
	"missingauthenticationtokenexception": true,
	"expiredtokenexception":               true,
	"invalidclienttokenid":                true,
	"signaturedoesnotmatch":               true,
}

// statusError maps a non-2xx answer. The exception name comes from the
// x-amzn-ErrorType header ("ThrottlingException:http://internal.amazon.com/..."), else
// the body's __type or code; the message from the body's message (or Message).
func statusError(status int, h http.Header, body []byte, key schema.Secret, now time.Time) *apierr.Error {
	name := exceptionName(h.Get("x-amzn-ErrorType"))
	var msg string
	if gjson.ValidBytes(body) {
		doc := gjson.ParseBytes(body)
		if name == "" {
			name = exceptionName(firstString(doc, "__type", "code", "Code"))
		}
		msg = firstString(doc, "message", "Message")
	}
	if status < 400 || status > 599 {
		status = http.StatusBadGateway
	}
	e := exceptionError(status, name, msg, key)
	e.RetryAfter = openai.RetryAfter(h, now)
	return e
}

// exceptionError builds the error for an AWS exception answered with status.
func exceptionError(status int, name, msg string, key schema.Secret) *apierr.Error {
	lower := strings.ToLower(name)
	e := &apierr.Error{Kind: apierr.KindProvider, Status: status, Message: sanitize(msg, key)}
	switch {
	case authExceptions[lower]:
		e.Status, e.Type, e.Code = http.StatusUnauthorized, "authentication_error", "invalid_api_key"
	case e.Status == http.StatusFailedDependency:
		// A model failure is the upstream's fault, and AWS advises a retry.
		e.Type, e.Code, e.Retryable = "upstream_error", snake(name, "model_error"), true
	case e.Status == http.StatusTooManyRequests:
		e.Type, e.Code = openai.ErrorType(e.Status), "rate_limit_exceeded"
	case e.Status >= 500:
		e.Type, e.Code = openai.ErrorType(e.Status), "upstream_error"
	case lower == "resourcenotfoundexception":
		e.Type, e.Code = openai.ErrorType(e.Status), "model_not_found"
	default:
		e.Type, e.Code = openai.ErrorType(e.Status), snake(name, "")
	}
	e.Retryable = e.Retryable || openai.RetryableStatus(e.Status)
	if e.Message == "" {
		e.Message = fmt.Sprintf("upstream returned status %d", status)
		if name != "" {
			e.Message += " (" + sanitize(name, key) + ")"
		}
	}
	return e
}

// sanitize makes upstream text safe to show: besides the whole secret, the secret
// access key and the session token are redacted on their own, in case AWS echoes one.
func sanitize(s string, key schema.Secret) string {
	if c, ok := credentials(key); ok {
		for _, part := range []string{c.SecretAccessKey, c.SessionToken} {
			if part != "" {
				s = strings.ReplaceAll(s, part, "[REDACTED]")
			}
		}
	}
	return openai.Sanitize(s, key)
}

// streamException maps an exception frame of ConverseStream.
func streamException(name string, payload []byte, key schema.Secret) *apierr.Error {
	status, ok := streamStatus[strings.ToLower(name)]
	if !ok {
		status = http.StatusBadGateway
	}
	msg := ""
	if gjson.ValidBytes(payload) {
		msg = firstString(gjson.ParseBytes(payload), "message", "Message")
	}
	return exceptionError(status, name, msg, key)
}

// exceptionName strips the namespace AWS appends to x-amzn-ErrorType and __type
// ("ValidationException:http://...", "com.amazon.coral.service#ValidationException").
func exceptionName(v string) string {
	v, _, _ = strings.Cut(strings.TrimSpace(v), ":")
	if i := strings.LastIndexByte(v, '#'); i >= 0 {
		v = v[i+1:]
	}
	if len(v) > 100 {
		return ""
	}
	return v
}

// snake turns an exception name into an error code: "ModelTimeoutException" becomes
// "model_timeout". An empty name gives fallback.
func snake(name, fallback string) string {
	name = strings.TrimSuffix(strings.TrimSuffix(name, "Exception"), "exception")
	if name == "" {
		return fallback
	}
	var b strings.Builder
	for i, r := range name {
		switch {
		case r >= 'A' && r <= 'Z':
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r + ('a' - 'A'))
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

func firstString(doc gjson.Result, keys ...string) string {
	for _, k := range keys {
		if v := doc.Get(k); v.Type == gjson.String {
			return v.Str
		}
	}
	return ""
}
