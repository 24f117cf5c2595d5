package openai

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

// StatusClientClosed is the status of an error caused by the client going away
// (nginx's 499): the request's context was cancelled before the upstream finished.
const StatusClientClosed = 499

// maxRetryAfter caps an upstream's requested wait, so that a bogus header cannot
// overflow a time.Duration.
const maxRetryAfter = 24 * time.Hour

// errorFields are the parts of an upstream error body tollgate keeps.
type errorFields struct {
	message, typ, code, param string
	// status is a numeric code in the HTTP error range (OpenRouter, vLLM), else zero.
	status int
}

// statusError maps a non-2xx answer to an *apierr.Error with the upstream's status and,
// when the body is an OpenAI-style error, its message, type, code and param.
func statusError(status int, h http.Header, body []byte, key schema.Secret, now time.Time) *apierr.Error {
	e := &apierr.Error{Kind: apierr.KindProvider, Status: status}
	if status < 400 || status > 599 {
		// A redirect or other odd status cannot be shown to the client as it is.
		e.Status = http.StatusBadGateway
	}
	if f, ok := parseErrorBody(body, true); ok {
		fill(e, f, key)
	}
	if e.Message == "" {
		e.Message = fmt.Sprintf("upstream returned status %d", status)
	}
	setDefaults(e)
	e.Retryable = retryable(status, h)
	e.RetryAfter = retryAfter(h, now)
	return e
}

// embeddedError returns the error carried by a 2xx body or a stream event, or nil when
// the JSON is not an error: `{"error":{...}}` (OpenAI, OpenRouter mid-stream) or vLLM's
// top-level `{"object":"error",...}`. Its status is the error's numeric code when that
// is an HTTP error status, else 502.
func embeddedError(body []byte, key schema.Secret) *apierr.Error {
	f, ok := parseErrorBody(body, false)
	if !ok {
		return nil
	}
	e := &apierr.Error{Kind: apierr.KindProvider, Status: f.status}
	if e.Status == 0 {
		e.Status = http.StatusBadGateway
	}
	fill(e, f, key)
	if e.Message == "" {
		e.Message = "upstream reported an error"
	}
	setDefaults(e)
	e.Retryable = retryableStatus(e.Status)
	return e
}

// parseErrorBody reads an error body. With loose set (the status already says it is an
// error) a bare top-level "message" or "detail" is accepted too.
func parseErrorBody(body []byte, loose bool) (errorFields, bool) {
	if len(body) == 0 || !gjson.ValidBytes(body) {
		return errorFields{}, false
	}
	doc := gjson.Parse(unsafeString(body))
	if !doc.IsObject() {
		return errorFields{}, false
	}
	switch e := doc.Get("error"); {
	case e.IsObject():
		return fieldsOf(e), true
	case e.Type == gjson.String:
		return errorFields{message: e.Str}, true
	}
	if doc.Get("object").Str == "error" {
		return fieldsOf(doc), true
	}
	if loose {
		if m := doc.Get("message"); m.Exists() && m.Type != gjson.Null {
			return fieldsOf(doc), true
		}
		if d := doc.Get("detail"); d.Exists() && d.Type != gjson.Null {
			return errorFields{message: messageText(doc)}, true
		}
	}
	return errorFields{}, false
}

func fieldsOf(e gjson.Result) errorFields {
	f := errorFields{message: messageText(e.Get("message"))}
	if t := e.Get("type"); t.Type == gjson.String {
		f.typ = t.Str
	}
	if p := e.Get("param"); p.Type == gjson.String {
		f.param = p.Str
	}
	switch c := e.Get("code"); c.Type {
	case gjson.String:
		f.code = c.Str
	case gjson.Number:
		// OpenRouter and vLLM send the HTTP status as a number.
		f.code = c.Raw
		if n := c.Int(); n >= 400 && n <= 599 {
			f.status = int(n)
		}
	}
	return f
}

// messageText renders an error message. Mistral and vLLM sometimes send a pydantic
// validation object ({"detail":[{"loc":[...],"msg":...}]}) instead of a string.
func messageText(m gjson.Result) string {
	switch {
	case m.Type == gjson.String:
		return m.Str
	case !m.Exists() || m.Type == gjson.Null:
		return ""
	}
	detail := m
	if m.IsObject() {
		detail = m.Get("detail")
	}
	if detail.Type == gjson.String {
		return detail.Str
	}
	if !detail.IsArray() {
		return m.Raw
	}
	var b strings.Builder
	detail.ForEach(func(_, d gjson.Result) bool {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		var loc []string
		for _, l := range d.Get("loc").Array() {
			loc = append(loc, l.String())
		}
		if len(loc) > 0 {
			b.WriteString(strings.Join(loc, "."))
			b.WriteString(": ")
		}
		b.WriteString(d.Get("msg").String())
		return b.Len() < maxMessageBytes
	})
	return b.String()
}

func fill(e *apierr.Error, f errorFields, key schema.Secret) {
	e.Message = sanitize(f.message, key)
	e.Type = sanitize(f.typ, key)
	e.Code = sanitize(f.code, key)
	e.Param = sanitize(f.param, key)
}

func setDefaults(e *apierr.Error) {
	if e.Type == "" {
		e.Type = defaultType(e.Status)
	}
	if e.Code == "" {
		switch {
		case e.Status == http.StatusTooManyRequests:
			e.Code = "rate_limit_exceeded"
		case e.Status >= 500:
			e.Code = "upstream_error"
		}
	}
}

func defaultType(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusForbidden:
		return "permission_error"
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status >= 500:
		return "upstream_error"
	}
	return "invalid_request_error"
}

// retryable follows the OpenAI SDKs: x-should-retry decides when present, otherwise
// 408, 409, 429 and 5xx are worth another attempt.
func retryable(status int, h http.Header) bool {
	switch strings.ToLower(strings.TrimSpace(h.Get("x-should-retry"))) {
	case "true":
		return true
	case "false":
		return false
	}
	return retryableStatus(status)
}

func retryableStatus(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusConflict ||
		status == http.StatusTooManyRequests || status >= 500
}

// retryAfter reads retry-after-ms (milliseconds), then retry-after (seconds, fractions
// allowed, or an HTTP date), as the OpenAI SDKs do. Zero means no advice.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("retry-after-ms"); v != "" {
		if ms, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			return clampWait(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("retry-after"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		return clampWait(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return clampWait(float64(t.Sub(now)))
	}
	return 0
}

func clampWait(ns float64) time.Duration {
	switch {
	case math.IsNaN(ns) || ns <= 0:
		return 0
	case ns >= float64(maxRetryAfter):
		return maxRetryAfter
	}
	return time.Duration(ns)
}

// transportError maps a failure to send or read: the caller's deadline is a 504, the
// caller going away is a 499 that wraps ctx's error, anything else (refused, reset, TLS,
// DNS) a retryable 502. The cause keeps its type for errors.Is and errors.As, but its
// text loses the URL's query and user info and any trace of the credential.
func transportError(ctx context.Context, err error, base string, key schema.Secret) *apierr.Error {
	if ctx.Err() != nil {
		return contextError(ctx)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		e := apierr.Timeout("the upstream did not answer in time").WithCause(safeCause(err, key))
		e.Retryable = true
		return e
	}
	e := apierr.Upstream("could not reach the upstream at " + hostOf(base)).WithCause(safeCause(err, key))
	e.Retryable = true
	return e
}

// contextError maps a done context.
func contextError(ctx context.Context) *apierr.Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		e := apierr.Timeout("the upstream did not answer before the deadline").WithCause(ctx.Err())
		e.Retryable = true
		return e
	}
	return apierr.New(apierr.KindCaller, StatusClientClosed, "invalid_request_error",
		"client_closed_request", "the client closed the request").WithCause(ctx.Err())
}

// safeError is a cause whose text was cleaned; it still unwraps to the original.
type safeError struct {
	msg string
	err error
}

func (e *safeError) Error() string { return e.msg }
func (e *safeError) Unwrap() error { return e.err }

func safeCause(err error, key schema.Secret) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		inner := ue.Err
		return &safeError{msg: redactKey(ue.Op+" "+redactURL(ue.URL)+": "+inner.Error(), key), err: inner}
	}
	return &safeError{msg: redactKey(err.Error(), key), err: err}
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "upstream"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

func hostOf(base string) string {
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		return u.Host
	}
	return "upstream"
}

// sanitize makes an upstream string safe to show: the credential redacted (some
// upstreams echo the key they rejected), the length capped, and a private copy so that
// a large error body is not kept alive by a substring.
func sanitize(s string, key schema.Secret) string {
	s = redactKey(s, key)
	if len(s) > maxMessageBytes {
		cut := maxMessageBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strings.Clone(s)
}

func redactKey(s string, key schema.Secret) string {
	if k := key.Reveal(); k != "" && strings.Contains(s, k) {
		return strings.ReplaceAll(s, k, "[REDACTED]")
	}
	return s
}
