package quota

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
)

// usage is one scope's counters as a backend saw them: after counting the request when
// it was allowed, before it when it was denied.
type usage struct {
	requests, tokens           int64
	resetRequests, resetTokens time.Duration
	inFlight                   int64
}

// concurrencyRetry is the Retry-After hint for a concurrency denial: a slot frees when
// some request ends, which no window can predict.
const concurrencyRetry = time.Second

// newDecision builds the headers' view of a decision from the per-scope counters: for
// each kind, the scope with the fewest remaining (ties: the lower limit) is reported.
func newDecision(scopes []Limit, us []usage, denied *Denial) *Decision {
	d := &Decision{Allowed: denied == nil, Denied: denied, scopes: scopes}
	for i, l := range scopes {
		u := us[i]
		d.Requests = tightest(d.Requests, l.RPM, u.requests, u.resetRequests)
		d.Tokens = tightest(d.Tokens, l.TPM, u.tokens, u.resetTokens)
	}
	return d
}

func tightest(cur Window, limit, used int64, reset time.Duration) Window {
	if limit <= 0 {
		return cur
	}
	w := Window{Limit: limit, Remaining: max(limit-used, 0), Reset: max(reset, 0)}
	if cur.Limit == 0 || w.Remaining < cur.Remaining || (w.Remaining == cur.Remaining && w.Limit < cur.Limit) {
		return w
	}
	return cur
}

// denialError is the 429 answered for a denial. Its message names the scope and the
// limit, never a secret: scopes hold public key ids and names only.
func denialError(den *Denial) *apierr.Error {
	who := strings.Replace(den.Scope, ":", " ", 1)
	var msg string
	typ := "requests"
	switch {
	case den.Kind == KindConcurrency:
		msg = fmt.Sprintf("Rate limit reached for %s on concurrent requests: limit %d, in flight %d. "+
			"Try again when a request finishes.", who, den.Limit, den.Used)
	case den.Kind == KindTokens && den.RetryAfter == 0:
		typ = "tokens"
		msg = fmt.Sprintf("Request too large for %s on tokens per minute: limit %d, requested %d. "+
			"Reduce the prompt or max_tokens to run this request.", who, den.Limit, den.Requested)
	default:
		if den.Kind == KindTokens {
			typ = "tokens"
		}
		msg = fmt.Sprintf("Rate limit reached for %s on %s per minute: limit %d, used %d, requested %d. "+
			"Try again in %s.", who, den.Kind, den.Limit, den.Used, den.Requested, formatReset(den.RetryAfter))
	}
	e := apierr.New(apierr.KindPolicy, http.StatusTooManyRequests, typ, "rate_limit_exceeded", msg)
	e.RetryAfter = den.RetryAfter
	return e
}

// unavailableError is the 503 answered under fail_closed while Redis is unreachable.
func unavailableError(cause error) *apierr.Error {
	e := apierr.New(apierr.KindGateway, http.StatusServiceUnavailable, "service_unavailable",
		"service_unavailable", "Rate limits cannot be checked right now; try again shortly.")
	e.Retryable = true
	e.RetryAfter = time.Second
	return e.WithCause(cause)
}

// SetHeaders writes OpenAI's x-ratelimit-* headers for d into h: limit, remaining and
// reset of requests and of tokens, each for the tightest limit of its kind. A kind with
// no limit gets no headers. It is meant for both allowed and denied requests.
func SetHeaders(h http.Header, d *Decision) {
	if d == nil {
		return
	}
	setWindow(h, "requests", d.Requests)
	setWindow(h, "tokens", d.Tokens)
}

func setWindow(h http.Header, kind string, w Window) {
	if w.Limit <= 0 {
		return
	}
	h.Set("x-ratelimit-limit-"+kind, strconv.FormatInt(w.Limit, 10))
	h.Set("x-ratelimit-remaining-"+kind, strconv.FormatInt(w.Remaining, 10))
	h.Set("x-ratelimit-reset-"+kind, formatReset(w.Reset))
}

// formatReset formats d as OpenAI's reset headers do: a Go duration in whole
// milliseconds, such as "20ms", "1s", "8.64s" or "6m0s". It rounds up, so that a client
// that waits that long is never early.
func formatReset(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	if r := d.Truncate(time.Millisecond); r < d {
		d = r + time.Millisecond
	}
	return d.String()
}
