package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/store"
)

// AlertClaimer makes each alert happen once across replicas; *store.DB is one.
type AlertClaimer interface {
	ClaimBudgetAlert(ctx context.Context, scope, subject string, periodStart time.Time, threshold int) (bool, error)
}

// AuditRecorder records audit events; *audit.Log is one.
type AuditRecorder interface {
	Record(ctx context.Context, e audit.Event) error
}

var _ AlertClaimer = (*store.DB)(nil)

// DefaultThresholds are the budget percentages that raise an alert.
var DefaultThresholds = []int{50, 80, 100}

// AlertOptions configures an Alerter.
type AlertOptions struct {
	// URLs receive every alert as a signed webhook; none means log and audit only.
	URLs []string
	// Secret signs the webhooks (X-Tollgate-Signature); required when URLs are set.
	Secret []byte
	Claims AlertClaimer
	// Audit is optional.
	Audit AuditRecorder
	// Thresholds are percentages of the budget (DefaultThresholds).
	Thresholds []int
	Client     *http.Client
	// Attempts per URL (3), the first retry after RetryBase (1s), doubling.
	Attempts  int
	RetryBase time.Duration
	// QueueSize bounds alerts waiting to be sent (256).
	QueueSize int
	Now       func() time.Time
	Logger    *slog.Logger
}

// Alerter raises budget alerts: when a key's or project's spend reaches 50%, 80% and
// 100% of its budget, it claims the alert in the database (so that across replicas
// exactly one sends it, once per threshold and period), writes a log line, records an
// audit event and posts a signed webhook to every URL. Observe is cheap and never
// blocks; Run sends.
type Alerter struct {
	opts  AlertOptions
	queue chan alertEvent
	mu    sync.Mutex
	// seen holds alerts claimed (by any replica) or queued, until their period ends.
	seen map[alert]time.Time
}

// alert is one threshold of one budget period.
type alert struct {
	scope, subject, period string
	start                  int64
	threshold              int
}

// alertEvent is an alert with the numbers that raised it.
type alertEvent struct {
	alert
	state BudgetState
}

// NewAlerter returns an alerter; start it with Run.
func NewAlerter(o AlertOptions) (*Alerter, error) {
	if o.Claims == nil {
		return nil, errors.New("billing: alerts need a claim store")
	}
	if len(o.URLs) > 0 && len(o.Secret) == 0 {
		return nil, errors.New("billing: alert webhooks need a signing secret")
	}
	if len(o.Thresholds) == 0 {
		o.Thresholds = DefaultThresholds
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.RetryBase <= 0 {
		o.RetryBase = time.Second
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Alerter{opts: o, queue: make(chan alertEvent, o.QueueSize), seen: map[alert]time.Time{}}, nil
}

// reached reports whether spent is at least pct percent of limit, exactly.
func reached(spent, limit Money, pct int) bool {
	if limit <= 0 {
		return spent > 0 || pct <= 0
	}
	if spent <= 0 {
		return false
	}
	sh, sl := bits.Mul64(uint64(spent), 100)
	lh, ll := bits.Mul64(uint64(limit), uint64(pct))
	return sh > lh || (sh == lh && sl >= ll)
}

// Observe queues an alert for every threshold a budget has reached and that was not
// raised yet this period. A full queue drops the alert for now; the next settlement of
// that budget raises it again.
func (a *Alerter) Observe(states []BudgetState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.opts.Now()
	for _, st := range states {
		for _, pct := range a.opts.Thresholds {
			if !reached(st.Spent, st.Limit, pct) {
				continue
			}
			k := alert{scope: string(st.Scope), subject: st.Subject, period: string(st.Period),
				start: st.Start.UnixNano(), threshold: pct}
			if _, ok := a.seen[k]; ok {
				continue
			}
			select {
			case a.queue <- alertEvent{alert: k, state: st}:
				a.seen[k] = st.End
			default:
			}
		}
	}
	if len(a.seen) > 4*a.opts.QueueSize {
		for k, end := range a.seen {
			if now.After(end) {
				delete(a.seen, k)
			}
		}
	}
}

// Run sends queued alerts until ctx is done.
func (a *Alerter) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-a.queue:
			a.raise(ctx, ev)
		}
	}
}

// raise claims and sends one alert; an alert whose claim fails is forgotten so that the
// next settlement queues it again.
func (a *Alerter) raise(ctx context.Context, ev alertEvent) {
	defer func() {
		if p := recover(); p != nil {
			a.opts.Logger.Error("budget alert panicked", "panic", fmt.Sprint(p))
		}
	}()
	claimed, err := a.opts.Claims.ClaimBudgetAlert(ctx, ev.scope, ev.subject, ev.state.Start, ev.threshold)
	if err != nil {
		a.opts.Logger.Warn("budget alert not claimed; will retry", "scope", ev.scope, "subject", ev.subject,
			"threshold_percent", ev.threshold, "error", err)
		a.mu.Lock()
		delete(a.seen, ev.alert)
		a.mu.Unlock()
		return
	}
	if !claimed {
		return // Another replica raised it.
	}
	st := ev.state
	a.opts.Logger.Warn("budget threshold reached", "scope", ev.scope, "subject", ev.subject,
		"period", ev.period, "threshold_percent", ev.threshold, "limit_usd", st.Limit.Decimal(),
		"spent_usd", st.Spent.Decimal())
	if a.opts.Audit != nil {
		err := a.opts.Audit.Record(ctx, audit.Event{Actor: audit.Actor{ID: "system", Name: "billing"},
			Action: "budget.threshold", Target: ev.scope + ":" + ev.subject, Time: a.opts.Now(),
			Details: map[string]any{"threshold_percent": ev.threshold, "period": ev.period,
				"period_start": st.Start.UTC().Format(time.RFC3339), "limit_usd": st.Limit.Decimal(),
				"spent_usd": st.Spent.Decimal()}})
		if err != nil {
			a.opts.Logger.Error("recording budget alert in the audit log", "error", err)
		}
	}
	a.send(ctx, ev)
}

// deliveryID names an alert for receivers that deduplicate.
func (ev alertEvent) deliveryID() string {
	return "budget:" + ev.scope + ":" + ev.subject + ":" + ev.period + ":" +
		strconv.FormatInt(ev.state.Start.Unix(), 10) + ":" + strconv.Itoa(ev.threshold)
}
