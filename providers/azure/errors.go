package azure

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/tollgate-llm/tollgate/apierr"
)

// contentFilterCode is the OpenAI-side code of a prompt rejected by Azure's filter.
const contentFilterCode = "content_filter"

// maxRetryAfter caps x-ms-retry-after-ms, as the passthrough caps its own headers.
const maxRetryAfter = 24 * time.Hour

// amendError applies Azure's conventions to an error the passthrough built from a
// non-2xx answer: content-filter rejections get code "content_filter", numeric string
// codes become OpenAI's, and x-ms-retry-after-ms is honoured when no other wait was
// given.
func amendError(e *apierr.Error, h http.Header, body []byte) {
	if isContentFilter(body) {
		e.Code = contentFilterCode
		if e.Type == "" || e.Type == "null" {
			e.Type = "invalid_request_error"
		}
	}
	if isDigits(e.Code) {
		e.Code = codeForStatus(e.Status)
	}
	if e.RetryAfter == 0 {
		e.RetryAfter = msHeader(h.Get("x-ms-retry-after-ms"))
	}
}

// isContentFilter reports whether an error body is a content-filter rejection, by its
// typed code fields.
func isContentFilter(body []byte) bool {
	if !gjson.ValidBytes(body) {
		return false
	}
	errObj := gjson.GetBytes(body, "error")
	return errObj.Get("code").Str == contentFilterCode ||
		errObj.Get("innererror.code").Str == "ResponsibleAIPolicyViolation"
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// codeForStatus is OpenAI's code for an error status, "" where OpenAI sends none.
func codeForStatus(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "invalid_api_key"
	case status == http.StatusTooManyRequests:
		return "rate_limit_exceeded"
	case status >= 500:
		return "upstream_error"
	}
	return ""
}

// msHeader reads a wait in milliseconds; garbage, negative and zero mean no advice.
func msHeader(v string) time.Duration {
	ms, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || !(ms > 0) {
		return 0
	}
	if d := time.Duration(ms * float64(time.Millisecond)); d > 0 && d < maxRetryAfter {
		return d
	}
	return maxRetryAfter
}
