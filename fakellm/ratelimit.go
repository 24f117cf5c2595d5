package fakellm

import (
	"sync"
	"time"
)

const (
	rateWindow = time.Minute
	// The limits reported, but never enforced, when Options sets none.
	reportedRequestLimit = 10000
	reportedTokenLimit   = 30000000
)

// rateState is what the rate-limit headers of one answer say.
type rateState struct {
	limitRequests, remainingRequests int
	resetRequests                    time.Duration
	limitTokens, remainingTokens     int
	resetTokens                      time.Duration
}

// exhaust sets the remaining count of kind ("requests" or "tokens") to zero, for a 429.
func (st *rateState) exhaust(kind string) {
	if kind == "tokens" {
		st.remainingTokens = 0
		return
	}
	st.remainingRequests = 0
}

// limiter keeps fixed one-minute windows of requests and tokens per API key.
type limiter struct {
	requests, tokens int // enforced limits; 0 means not enforced

	mu      sync.Mutex
	windows map[string]*rateWindowState
}

type rateWindowState struct {
	start            time.Time
	requests, tokens int
}

func newLimiter(requests, tokens int) *limiter {
	return &limiter{requests: max(requests, 0), tokens: max(tokens, 0), windows: map[string]*rateWindowState{}}
}

// window returns key's current window, starting a new one when the old one has ended.
func (l *limiter) window(key string, now time.Time) *rateWindowState {
	w := l.windows[key]
	if w == nil || now.Sub(w.start) >= rateWindow {
		w = &rateWindowState{start: now}
		l.windows[key] = w
	}
	return w
}

// peek returns key's state without counting a request.
func (l *limiter) peek(key string, now time.Time) rateState {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows[key]
	if w == nil || now.Sub(w.start) >= rateWindow {
		w = &rateWindowState{start: now}
	}
	return l.snapshot(w, now)
}

// admit counts one request for key, or returns the 429 to answer when a window is spent.
func (l *limiter) admit(key string, now time.Time) (rateState, *apiError) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.window(key, now)
	retry := w.start.Add(rateWindow).Sub(now)
	switch {
	case l.requests > 0 && w.requests >= l.requests:
		return l.snapshot(w, now), errRateLimited("requests", l.requests, w.requests, retry)
	case l.tokens > 0 && w.tokens >= l.tokens:
		return l.snapshot(w, now), errRateLimited("tokens", l.tokens, w.tokens, retry)
	}
	w.requests++
	return l.snapshot(w, now), nil
}

// charge counts tokens used by an answer to key.
func (l *limiter) charge(key string, tokens int, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.window(key, now).tokens += tokens
}

func (l *limiter) snapshot(w *rateWindowState, now time.Time) rateState {
	reset := w.start.Add(rateWindow).Sub(now)
	st := rateState{}
	st.limitRequests, st.remainingRequests, st.resetRequests = remaining(l.requests, reportedRequestLimit, w.requests, reset)
	st.limitTokens, st.remainingTokens, st.resetTokens = remaining(l.tokens, reportedTokenLimit, w.tokens, reset)
	return st
}

// remaining computes one dimension's headers. An unenforced limit never reports fewer
// than one remaining, so clients that throttle on the headers keep going.
func remaining(enforced, reported, used int, reset time.Duration) (limit, left int, resetIn time.Duration) {
	if used == 0 {
		reset = 0
	}
	if enforced > 0 {
		return enforced, max(enforced-used, 0), reset
	}
	return reported, max(reported-used, 1), reset
}

func (l *limiter) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.windows)
}

// formatReset formats d as OpenAI's reset headers do: a Go duration rounded to
// milliseconds, such as "20ms", "1s" or "6m0s".
func formatReset(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return d.Round(time.Millisecond).String()
}
