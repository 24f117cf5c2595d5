package billing

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/tollgate-llm/tollgate/store"
)

// RowSink takes spend rows off the request path; *Writer is one.
type RowSink interface {
	Append(ctx context.Context, rows ...store.SpendRow) error
}

// BudgetObserver hears the budgets' spend after each settlement; *Alerter is one.
type BudgetObserver interface {
	Observe(states []BudgetState)
}

var (
	_ RowSink        = (*Writer)(nil)
	_ BudgetObserver = (*Alerter)(nil)
)

// Service is billing on the request path: Begin before dispatch, Finish after the
// answer, whatever happened. It ties the ledger, the spend writer and the alerts.
type Service struct {
	ledger *Ledger
	sink   RowSink
	alerts BudgetObserver
	// fallbackMax is the output assumed for worst-case reservations when neither the
	// request nor the catalog gives a limit.
	fallbackMax int64
	log         *slog.Logger
}

// ServiceOptions configures a Service.
type ServiceOptions struct {
	Ledger *Ledger
	Sink   RowSink
	// Alerts is optional.
	Alerts BudgetObserver
	// FallbackMaxTokens is the output assumed for a worst case when neither max_tokens
	// nor the catalog knows a limit (32768).
	FallbackMaxTokens int64
	Logger            *slog.Logger
}

// NewService returns the request-path billing service.
func NewService(o ServiceOptions) (*Service, error) {
	if o.Ledger == nil || o.Sink == nil {
		return nil, errors.New("billing: a service needs a ledger and a row sink")
	}
	s := &Service{ledger: o.Ledger, sink: o.Sink, alerts: o.Alerts, fallbackMax: o.FallbackMaxTokens,
		log: o.Logger}
	if s.fallbackMax <= 0 {
		s.fallbackMax = 32768
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s, nil
}

// Request is what Begin needs to know about a request before dispatch.
type Request struct {
	RequestID string
	// KeyID is the calling key; ParentKeyID its parent when it is an ephemeral child.
	KeyID, ParentKeyID, Project string
	Endpoint                    string
	// Model is the route name the client asked for.
	Model  string
	Stream bool
	// Budgets are every budget above the key (its own, its project's, its parent's).
	Budgets []Budget
	// Prices are the prices of every deployment that may serve the request, fallbacks
	// included: the reservation covers the dearest.
	Prices []Price
	// PromptTokens is the prompt estimate (quota.Estimate of the request).
	PromptTokens int64
	// MaxTokens is the request's max_tokens, zero when absent.
	MaxTokens           int64
	SourceIP, UserAgent string
}

// Ticket is a begun request: its reservation and what Finish needs.
type Ticket struct {
	req      Request
	res      *Reservation
	start    time.Time
	finished atomic.Bool
}

// Reserved returns the worst-case amount held for the request.
func (t *Ticket) Reserved() Money {
	if t.res == nil {
		return 0
	}
	return t.res.Amount
}

// Begin reserves the request's worst-case cost against every budget above its key. A
// refusal is an *apierr.Error (429 insufficient_quota/budget_exceeded, or 503
// budget_unavailable) to answer the client with; nothing needs finishing then.
func (s *Service) Begin(ctx context.Context, req Request) (*Ticket, error) {
	return s.PrepareBegin(req).Ticket(ctx)
}

// Finish bills the request once, whatever its outcome: it prices the usage (counting
// what a cut stream produced), queues its spend row and those of billed failed
// attempts, settles the reservation to the real cost and tells the alerts. It returns
// the request's row. Calling it again does nothing. Errors are logged and returned but
// never lose the row: the row is queued before the ledger is touched.
func (s *Service) Finish(ctx context.Context, t *Ticket, o Outcome) (store.SpendRow, error) {
	return s.PrepareFinish(ctx, t, o).Done(ctx)
}
