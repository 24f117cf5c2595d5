package quota

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter decides whether a request may start under every rate limit that applies to it,
// and accounts for it afterwards. Implementations are safe for concurrent use.
type Limiter interface {
	// Allow admits the request only if every limit in req allows it, and then consumes
	// from all of them; a denied request consumes from none. On denial it returns the
	// Decision (for the response headers) together with a 429 *apierr.Error; when the
	// limiter cannot decide (Redis down under fail_closed) it returns a nil Decision and a
	// 503 *apierr.Error.
	Allow(ctx context.Context, req Request) (*Decision, error)
	// Settle replaces the decision's estimated tokens with the tokens actually used. It is
	// idempotent (only the first call counts) and ignores the cancellation of ctx.
	Settle(ctx context.Context, d *Decision, actualTokens int64) error
	// Release frees the decision's concurrency slot. It is idempotent and ignores the
	// cancellation of ctx.
	Release(ctx context.Context, d *Decision) error
	// Finish is Settle and Release together, in one backend call (one Redis round trip):
	// what a request that ran does when it ends. Each half is done once, whichever of
	// Settle, Release and Finish comes first.
	Finish(ctx context.Context, d *Decision, actualTokens int64) error
	// Cancel gives back everything the decision took: its request, its tokens and its
	// slot, in one backend call. It is for a request refused by something else (its
	// budget) right after it was allowed, which must consume nothing. It does nothing
	// for the halves already settled or released, and ignores the cancellation of ctx.
	Cancel(ctx context.Context, d *Decision) error
}

// Rider is a Redis call of another component (the budget ledger's) that shares the
// round trip of a Redis limiter's call: the limiter queues it on the same pipeline and
// sends both at once. Its keys may live in other cluster slots, which a pipeline spans.
// A rider reads its own reply afterwards, and makes its call alone when it was not
// queued (the limiter had nothing to send to Redis) or when client is not its Redis.
type Rider interface {
	// Queue queues the rider's commands on pipe, a pipeline of client, unless client is
	// not the Redis the rider's data lives in.
	Queue(ctx context.Context, client redis.Scripter, pipe redis.Pipeliner)
}

// Request is everything the limiter needs to decide one request.
type Request struct {
	// RequestID identifies the request in logs; it need not be unique.
	RequestID string
	// EstimatedTokens is reserved against every token limit until Settle.
	EstimatedTokens int64
	// Limits are the limits that apply together: the key's, its project's, the model's.
	Limits []Limit
}

// Limit is one scope's limits; zero means unlimited. The limits are read afresh on every
// call, so a changed limit applies to the very next request.
type Limit struct {
	// Scope names the counted subject, such as "key:<id>", "project:<name>" or
	// "model:<name>" (see KeyScope, ProjectScope, ModelScope). It appears in 429
	// messages and Redis key names, so it must never contain a secret.
	Scope       string
	RPM         int64
	TPM         int64
	MaxParallel int64
}

// KeyScope is the scope of a client key, by its public id.
func KeyScope(id string) string { return "key:" + id }

// ProjectScope is the scope of a project.
func ProjectScope(name string) string { return "project:" + name }

// ModelScope is the scope of a gateway-wide per-model limit.
func ModelScope(name string) string { return "model:" + name }

// Kind is the kind of limit that denied a request.
type Kind string

// The kinds of limit.
const (
	KindRequests    Kind = "requests"
	KindTokens      Kind = "tokens"
	KindConcurrency Kind = "concurrency"
)

// Window is the state of one kind of limit as OpenAI's x-ratelimit-* headers report it.
// Limit is zero when no limit of that kind applies.
type Window struct {
	Limit     int64
	Remaining int64
	// Reset is the time until the window is back to its initial, unused state.
	Reset time.Duration
}

// Denial says which limit refused a request.
type Denial struct {
	Scope string
	Kind  Kind
	// Limit is the limit that was hit, and Used what had been used (or was in flight)
	// when the request arrived.
	Limit, Used int64
	// Requested is the amount the request asked for: 1, or its estimated tokens.
	Requested int64
	// RetryAfter is the time until the request would fit; zero when it never will (a
	// request estimated at more tokens than the limit allows in a minute).
	RetryAfter time.Duration
}

// Decision is the outcome of Allow. The server writes SetHeaders(h, d) on the response and
// passes d to Finish when the request ends (or to Cancel when its budget refused it).
type Decision struct {
	// Allowed reports whether the request may go ahead.
	Allowed bool
	// Requests and Tokens are the tightest applicable limits of each kind, after this
	// request was counted.
	Requests, Tokens Window
	// Denied is set when Allowed is false.
	Denied *Denial
	// Local reports that the decision was taken in-process because Redis was unreachable.
	Local bool

	estimate int64
	bucket   int64 // the window bucket the tokens were reserved in
	scopes   []Limit
	slot     string // the concurrency slot's member name, "" when no slot was taken
	owner    finisher
	settled  atomic.Bool
	released atomic.Bool
}

// EstimatedTokens returns the tokens reserved by the decision.
func (d *Decision) EstimatedTokens() int64 { return d.estimate }

// finisher settles and releases the decisions of one backend.
type finisher interface {
	finish(ctx context.Context, d *Decision, op finishOp) error
}

// finishOp is what finishing a decision still has to do in its backend.
type finishOp struct {
	delta   int64 // tokens to add to the reservation: actual - estimate
	settle  bool  // apply delta to the token windows
	refund  bool  // take the request back out of the request windows
	release bool  // free the concurrency slot
}

// claim marks the halves of finishing d that are still due as done, so that each
// happens once: settling (with refund for Cancel) and releasing. ok is false when the
// backend has nothing to do.
func (d *Decision) claim(actual int64, settle, release, refund bool) (op finishOp, ok bool) {
	if d == nil || !d.Allowed || d.owner == nil {
		return op, false
	}
	if settle && d.settled.CompareAndSwap(false, true) {
		op.delta = max(actual, 0) - d.estimate
		op.settle = op.delta != 0 && hasTokenLimit(d.scopes)
		op.refund = refund && hasRequestLimit(d.scopes)
	}
	op.release = release && d.slot != "" && d.released.CompareAndSwap(false, true)
	return op, op.settle || op.refund || op.release
}

// unclaim undoes claim after the backend failed, so that a retry may do the work. A
// slot stays claimed: Redis keeps it as an orphan for Run to free.
func (d *Decision) unclaim(op finishOp) {
	if op.settle || op.refund {
		d.settled.Store(false)
	}
}

// finishDecision is Settle, Release, Finish and Cancel for every backend: it claims
// what is still due and hands it to the backend that took d in one call.
func finishDecision(ctx context.Context, d *Decision, actual int64, settle, release, refund bool) error {
	op, ok := d.claim(actual, settle, release, refund)
	if !ok {
		return nil
	}
	if err := d.owner.finish(ctx, d, op); err != nil {
		d.unclaim(op)
		return err
	}
	return nil
}

func hasTokenLimit(ls []Limit) bool {
	for _, l := range ls {
		if l.TPM > 0 {
			return true
		}
	}
	return false
}

func hasRequestLimit(ls []Limit) bool {
	for _, l := range ls {
		if l.RPM > 0 {
			return true
		}
	}
	return false
}

func hasParallelLimit(ls []Limit) bool {
	for _, l := range ls {
		if l.MaxParallel > 0 {
			return true
		}
	}
	return false
}

// normalize drops scopes without limits and merges duplicate scopes, keeping the
// tighter of two non-zero limits, so that no counter is charged twice.
func normalize(in []Limit) []Limit {
	out := make([]Limit, 0, len(in))
	for _, l := range in {
		if l.RPM <= 0 && l.TPM <= 0 && l.MaxParallel <= 0 {
			continue
		}
		l.RPM, l.TPM, l.MaxParallel = max(l.RPM, 0), max(l.TPM, 0), max(l.MaxParallel, 0)
		merged := false
		for i := range out {
			if out[i].Scope == l.Scope {
				out[i].RPM = tighter(out[i].RPM, l.RPM)
				out[i].TPM = tighter(out[i].TPM, l.TPM)
				out[i].MaxParallel = tighter(out[i].MaxParallel, l.MaxParallel)
				merged = true
			}
		}
		if !merged {
			out = append(out, l)
		}
	}
	return out
}

func tighter(a, b int64) int64 {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}
