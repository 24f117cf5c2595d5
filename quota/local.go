package quota

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Local is the in-process Limiter: exact for one replica, with one mutex around every
// decision so that all of a request's scopes are checked and charged together.
type Local struct {
	now func() time.Time

	mu        sync.Mutex
	scopes    map[string]*scopeState
	lastSweep int64 // the bucket of the last sweep of idle scopes

	seq atomic.Uint64
}

var _ Limiter = (*Local)(nil)

// scopeState is one scope's counters. A window exists only once its kind was limited.
type scopeState struct {
	requests, tokens *window
	inFlight         int64
	touched          int64 // the last bucket anything was counted in
}

// NewLocal returns an in-process limiter reading time from now (time.Now when nil).
func NewLocal(now func() time.Time) *Local {
	if now == nil {
		now = time.Now
	}
	return &Local{now: now, scopes: map[string]*scopeState{}}
}

// Allow implements Limiter.
func (l *Local) Allow(_ context.Context, req Request) (*Decision, error) {
	scopes := normalize(req.Limits)
	if len(scopes) == 0 {
		return &Decision{Allowed: true}, nil
	}
	est := max(req.EstimatedTokens, 0)
	nowMs := l.now().UnixMilli()
	b := bucketOf(nowMs)

	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(b)
	states := make([]*scopeState, len(scopes))
	var den *Denial
	for i, s := range scopes {
		states[i] = l.state(s.Scope)
		states[i].advance(s, b)
		if den == nil {
			den = states[i].check(s, est, nowMs)
		}
	}
	if den == nil {
		for i, s := range scopes {
			states[i].take(s, est, b)
		}
	}
	us := make([]usage, len(scopes))
	for i, st := range states {
		us[i] = st.usage(nowMs)
	}
	d := newDecision(scopes, us, den)
	if den != nil {
		return d, denialError(den)
	}
	d.estimate, d.bucket, d.owner = est, b, l
	if hasParallelLimit(scopes) {
		d.slot = "local-" + strconv.FormatUint(l.seq.Add(1), 10)
	}
	return d, nil
}

// Settle implements Limiter.
func (l *Local) Settle(ctx context.Context, d *Decision, actualTokens int64) error {
	return finishDecision(ctx, d, actualTokens, true, false, false)
}

// Release implements Limiter.
func (l *Local) Release(ctx context.Context, d *Decision) error {
	return finishDecision(ctx, d, 0, false, true, false)
}

// Finish implements Limiter.
func (l *Local) Finish(ctx context.Context, d *Decision, actualTokens int64) error {
	return finishDecision(ctx, d, actualTokens, true, true, false)
}

// Cancel implements Limiter.
func (l *Local) Cancel(ctx context.Context, d *Decision) error {
	return finishDecision(ctx, d, 0, true, true, true)
}

// finish applies a token delta to the window the decision reserved in, or to the
// current bucket when that one has left the window, takes a refunded request back out
// of its bucket while it is still counted, and frees the concurrency slot.
func (l *Local) finish(_ context.Context, d *Decision, op finishOp) error {
	b := bucketOf(l.now().UnixMilli())
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range d.scopes {
		st := l.state(s.Scope)
		if op.settle && s.TPM > 0 {
			w := st.window(&st.tokens, b)
			switch {
			case w.inWindow(d.bucket):
				w.add(d.bucket, op.delta)
			case op.delta > 0:
				w.add(b, op.delta)
			}
			st.touched = b
		}
		if op.refund && s.RPM > 0 {
			if w := st.window(&st.requests, b); w.inWindow(d.bucket) {
				w.add(d.bucket, -1)
			}
		}
		if op.release && s.MaxParallel > 0 {
			st.inFlight = max(st.inFlight-1, 0)
		}
	}
	return nil
}

func (l *Local) state(scope string) *scopeState {
	st := l.scopes[scope]
	if st == nil {
		st = &scopeState{}
		l.scopes[scope] = st
	}
	return st
}

// sweep forgets, about once per window, the scopes with nothing counted and nothing in
// flight, which bounds memory by the scopes active in the last two minutes.
func (l *Local) sweep(b int64) {
	if b-l.lastSweep < windowBuckets {
		return
	}
	l.lastSweep = b
	for k, st := range l.scopes {
		if st.inFlight == 0 && st.touched <= b-windowBuckets {
			delete(l.scopes, k)
		}
	}
}

// Scopes returns how many scopes the limiter holds in memory.
func (l *Local) Scopes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.scopes)
}

// window returns the window *p, creating it, advanced to bucket b.
func (st *scopeState) window(p **window, b int64) *window {
	if *p == nil {
		*p = &window{head: b}
	}
	(*p).advance(b)
	return *p
}

// advance moves the windows of the kinds s limits to bucket b, creating them.
func (st *scopeState) advance(s Limit, b int64) {
	if s.RPM > 0 {
		st.window(&st.requests, b)
	}
	if s.TPM > 0 {
		st.window(&st.tokens, b)
	}
}

// check returns the first limit of s the request would exceed, or nil. The windows of
// the limited kinds must have been advanced.
func (st *scopeState) check(s Limit, est, nowMs int64) *Denial {
	if s.RPM > 0 {
		w := st.requests
		if w.total+1 > s.RPM {
			return &Denial{Scope: s.Scope, Kind: KindRequests, Limit: s.RPM, Used: w.total, Requested: 1,
				RetryAfter: w.retryIn(w.total+1-s.RPM, nowMs)}
		}
	}
	if s.TPM > 0 {
		w := st.tokens
		if w.total+est > s.TPM {
			return &Denial{Scope: s.Scope, Kind: KindTokens, Limit: s.TPM, Used: w.total, Requested: est,
				RetryAfter: w.retryIn(w.total+est-s.TPM, nowMs)}
		}
	}
	if s.MaxParallel > 0 && st.inFlight+1 > s.MaxParallel {
		return &Denial{Scope: s.Scope, Kind: KindConcurrency, Limit: s.MaxParallel, Used: st.inFlight,
			Requested: 1, RetryAfter: concurrencyRetry}
	}
	return nil
}

// take counts the request in every limited kind of s.
func (st *scopeState) take(s Limit, est, b int64) {
	if s.RPM > 0 {
		st.requests.add(b, 1)
	}
	if s.TPM > 0 {
		st.tokens.add(b, est)
	}
	if s.MaxParallel > 0 {
		st.inFlight++
	}
	st.touched = b
}

func (st *scopeState) usage(nowMs int64) usage {
	u := usage{inFlight: st.inFlight}
	if w := st.requests; w != nil {
		u.requests, u.resetRequests = w.total, w.resetIn(nowMs)
	}
	if w := st.tokens; w != nil {
		u.tokens, u.resetTokens = w.total, w.resetIn(nowMs)
	}
	return u
}
