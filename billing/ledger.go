package billing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/store"
)

// Scope says what a budget belongs to.
type Scope string

// The budget scopes.
const (
	ScopeKey     Scope = store.BudgetScopeKey
	ScopeProject Scope = store.BudgetScopeProject
)

// Budget is a spending cap on a key or a project for a period.
type Budget struct {
	Scope Scope
	// Subject is the key id or the project name.
	Subject string
	Limit   Money
	Period  Period
}

// String names the budget for messages: `the month budget of key "AbC…" ($10)`.
func (b Budget) String() string {
	return fmt.Sprintf("the %s budget of %s %q (%s)", b.Period, b.Scope, b.Subject, b.Limit)
}

// BudgetFrom converts a key's or project's configured budget; nil means none (false).
func BudgetFrom(scope Scope, subject string, b *keys.Budget) (Budget, bool, error) {
	if b == nil {
		return Budget{}, false, nil
	}
	limit, err := ParseUSD(b.LimitUSD.String())
	if err != nil {
		return Budget{}, false, fmt.Errorf("budget.limit_usd: %w", err)
	}
	period, err := ParsePeriod(b.Period)
	if err != nil {
		return Budget{}, false, err
	}
	return Budget{Scope: scope, Subject: subject, Limit: limit, Period: period}, true, nil
}

// SpendSource reads persisted spend to seed budget counters; *store.DB implements it
// from the daily rollups.
type SpendSource interface {
	SpentSince(ctx context.Context, scope, subject string, since time.Time) (int64, error)
}

var _ SpendSource = (*store.DB)(nil)

// RedisClient is the part of a go-redis client the ledger uses; *redis.Client,
// *redis.ClusterClient and redis.UniversalClient have it.
type RedisClient interface {
	redis.Scripter
	HMGet(ctx context.Context, key string, fields ...string) *redis.SliceCmd
}

// LedgerOptions configures a Ledger.
type LedgerOptions struct {
	// Spend seeds each budget window's counter the first time it is used.
	Spend SpendSource
	// Location is the time zone of budget periods; nil means UTC.
	Location *time.Location
	// Redis, when set, holds the counters so that every replica shares them; nil keeps
	// them in this process.
	Redis RedisClient
	// RedisPrefix starts every Redis key; it must hold one {hash tag} so that a
	// request's keys share a cluster slot. Empty means "tollgate:{budget}:".
	RedisPrefix string
	// ReservationTTL is how long an unsettled reservation holds budget before it is
	// assumed lost (a crashed replica); zero means 15 minutes. Keep it above the
	// longest request.
	ReservationTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Ledger enforces budgets by reserve → settle → release. A request reserves its
// worst-case cost against every budget above its key, all or nothing; the answer's real
// cost settles the reservation and releases the rest. Settlement is idempotent on
// request id and attempt.
type Ledger struct {
	counters counters
	spend    SpendSource
	loc      *time.Location
	now      func() time.Time
	ttl      time.Duration
}

// counters is where budget windows are counted: this process or Redis.
type counters interface {
	reserve(ctx context.Context, res *Reservation, seed seedFunc) (refused int, spent, reserved Money, err error)
	settle(ctx context.Context, res *Reservation, actual Money, now time.Time) ([]Money, error)
	read(ctx context.Context, w window, seed seedFunc) (spent, reserved Money, err error)
}

// seedFunc returns the persisted spend of a window.
type seedFunc func(ctx context.Context, w window) (Money, error)

// window is one budget's current period; key names it in the counters.
type window struct {
	Budget
	start, end time.Time
	key        string
}

// newWindow returns b's window holding t.
func newWindow(b Budget, t time.Time, loc *time.Location) window {
	start, end := b.Period.Window(t, loc)
	return window{Budget: b, start: start, end: end,
		key: string(b.Scope) + ":" + b.Subject + ":" + string(b.Period) + ":" + strconv.FormatInt(start.Unix(), 10)}
}

// id names the window in counters.
func (w window) id() string { return w.key }

// Reservation is budget held for one attempt of a request.
type Reservation struct {
	RequestID string
	Attempt   int
	// Amount is the worst-case cost held against every budget.
	Amount Money
	// At is when the reservation was made; its periods are those holding At.
	At      time.Time
	windows []window
	expires time.Time
	// settled makes a second Settle of this reservation a no-op, however late.
	settled atomic.Bool
}

// id is the reservation's idempotency key.
func (r *Reservation) id() string { return r.RequestID + "#" + strconv.Itoa(r.Attempt) }

// BudgetState is a budget's counters for its current period.
type BudgetState struct {
	Budget
	Start, End time.Time
	// Spent is settled spend; Reserved is held by requests in flight.
	Spent, Reserved Money
}

// NewLedger returns a ledger. Without Redis its counters live in this process, which is
// right for one replica; several replicas need Redis to share one budget.
func NewLedger(opts LedgerOptions) (*Ledger, error) {
	if opts.Spend == nil {
		return nil, errors.New("billing: a ledger needs a spend source to seed its counters")
	}
	l := &Ledger{spend: opts.Spend, loc: opts.Location, now: opts.Now, ttl: opts.ReservationTTL}
	if l.loc == nil {
		l.loc = time.UTC
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.ttl <= 0 {
		l.ttl = 15 * time.Minute
	}
	if opts.Redis != nil {
		prefix := opts.RedisPrefix
		if prefix == "" {
			prefix = "tollgate:{budget}:"
		}
		l.counters = &redisCounters{rdb: opts.Redis, prefix: prefix}
	} else {
		l.counters = newMemCounters()
	}
	return l, nil
}

// ReserveRequest is what Reserve holds budget for.
type ReserveRequest struct {
	RequestID string
	Attempt   int
	// Budgets are every budget above the key: its own, its project's, and its parent's
	// for an ephemeral child key.
	Budgets []Budget
	// Amount is the worst-case cost (WorstCaseOf).
	Amount Money
}

// Reserve holds req.Amount against every budget, or none of them. A budget that cannot
// hold it answers an *apierr.Error 429 insufficient_quota / budget_exceeded naming the
// budget. A request whose worst case is zero (an unpriced or free model) is never
// refused. Reserving the same request id and attempt twice holds the amount once.
// When a budget's counter must be seeded and the database cannot be read, Reserve
// fails closed with a retryable 503: without the spend so far, it cannot promise the
// budget holds.
func (l *Ledger) Reserve(ctx context.Context, req ReserveRequest) (*Reservation, error) {
	res, err := l.newReservation(req)
	if err != nil {
		return nil, err
	}
	if err := l.hold(ctx, res, nil); err != nil {
		return nil, err
	}
	return res, nil
}

// newReservation builds req's reservation at the ledger's now, holding nothing yet.
func (l *Ledger) newReservation(req ReserveRequest) (*Reservation, error) {
	if req.RequestID == "" {
		return nil, errors.New("billing: reservation without a request id")
	}
	now := l.now()
	res := &Reservation{RequestID: req.RequestID, Attempt: req.Attempt, Amount: max(req.Amount, 0),
		At: now, expires: now.Add(l.ttl)}
	res.windows = make([]window, 0, len(req.Budgets))
	for _, b := range req.Budgets {
		res.windows = append(res.windows, newWindow(b, now, l.loc))
	}
	return res, nil
}

// hold holds res against every budget or none: from the reply of its script when a
// shared pipeline already sent it (cmd), else by its own calls.
func (l *Ledger) hold(ctx context.Context, res *Reservation, cmd *redis.Cmd) error {
	if len(res.windows) == 0 {
		return nil
	}
	var (
		refused         int
		spent, reserved Money
		err             error
	)
	if rc, ok := l.counters.(*redisCounters); ok && cmd != nil {
		refused, spent, reserved, err = rc.reserveFrom(ctx, res, l.seed, cmd)
	} else {
		refused, spent, reserved, err = l.counters.reserve(ctx, res, l.seed)
	}
	if err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) {
			return err
		}
		return unavailable(res.windows[0].Budget, err)
	}
	if refused >= 0 {
		return budgetExceeded(res.windows[refused].Budget, spent, reserved, res.Amount)
	}
	return nil
}

// budgetExceeded is the 429 for a budget that cannot hold amount.
func budgetExceeded(b Budget, spent, reserved, amount Money) *apierr.Error {
	msg := fmt.Sprintf("Budget exceeded: %s has %s spent and %s held by requests in flight; "+
		"this request may cost up to %s.", b, spent, reserved, amount)
	return apierr.New(apierr.KindPolicy, http.StatusTooManyRequests, "insufficient_quota", "budget_exceeded", msg)
}

// seed reads a window's persisted spend, failing closed.
func (l *Ledger) seed(ctx context.Context, w window) (Money, error) {
	n, err := l.spend.SpentSince(ctx, string(w.Scope), w.Subject, w.start)
	if err != nil {
		return 0, unavailable(w.Budget, err)
	}
	return Money(n), nil
}

// unavailable is the retryable 503 of a budget whose counters cannot be reached.
func unavailable(b Budget, cause error) *apierr.Error {
	e := apierr.New(apierr.KindGateway, http.StatusServiceUnavailable, "service_unavailable", "budget_unavailable",
		fmt.Sprintf("The spend of %s cannot be read right now; try again shortly.", b)).WithCause(cause)
	e.Retryable = true
	return e
}

// Settle records the attempt's actual cost against every budget of the reservation and
// releases what was held. It returns the budgets' spend after settling (for alerts).
// Settling a reservation again is a no-op that returns no states. Actual cost above the
// reservation is recorded in full: the spend is real even when the estimate was short.
func (l *Ledger) Settle(ctx context.Context, res *Reservation, actual Money) ([]BudgetState, error) {
	if !res.claim() {
		return nil, nil
	}
	return l.settleClaimed(ctx, res, actual, nil)
}

// claim marks res settled, reporting false when it was already or holds no budget.
func (r *Reservation) claim() bool {
	return r != nil && len(r.windows) > 0 && r.settled.CompareAndSwap(false, true)
}

// settleClaimed settles a claimed reservation: from the reply of its script when a
// shared pipeline already sent it (cmd), else by its own call.
func (l *Ledger) settleClaimed(ctx context.Context, res *Reservation, actual Money, cmd *redis.Cmd) ([]BudgetState, error) {
	var (
		spent []Money
		err   error
	)
	if rc, ok := l.counters.(*redisCounters); ok && cmd != nil {
		spent, err = rc.settleFrom(ctx, res, max(actual, 0), cmd)
	} else {
		spent, err = l.counters.settle(ctx, res, max(actual, 0), l.now())
	}
	if err != nil {
		res.settled.Store(false) // Nothing was recorded: a retry may settle.
		return nil, err
	}
	if spent == nil {
		return nil, nil
	}
	states := make([]BudgetState, 0, len(res.windows))
	for i, w := range res.windows {
		if spent[i] >= 0 {
			states = append(states, BudgetState{Budget: w.Budget, Start: w.start, End: w.end, Spent: spent[i]})
		}
	}
	return states, nil
}

// Release gives a reservation back untouched, for a request that failed before
// anything was billed. It is Settle with a cost of zero.
func (l *Ledger) Release(ctx context.Context, res *Reservation) error {
	_, err := l.Settle(ctx, res, 0)
	return err
}

// State reads b's counters for the current period, for GET /v1/key.
func (l *Ledger) State(ctx context.Context, b Budget) (BudgetState, error) {
	w := newWindow(b, l.now(), l.loc)
	spent, reserved, err := l.counters.read(ctx, w, l.seed)
	if err != nil {
		return BudgetState{}, err
	}
	return BudgetState{Budget: b, Start: w.start, End: w.end, Spent: spent, Reserved: reserved}, nil
}

// Location returns the time zone of budget periods.
func (l *Ledger) Location() *time.Location { return l.loc }
