package billing

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate-llm/tollgate/store"
)

// BeginCall is Begin in two steps, so that its Redis call can share a round trip with the
// rate limiter's: the limiter queues it on its pipeline (Queue, a quota.Rider), then
// Ticket reads the reply. Without Queue, or on another Redis, Ticket makes the call
// itself. A BeginCall is used once, by one goroutine.
type BeginCall struct {
	s   *Service
	req Request
	res *Reservation
	err error
	cmd *redis.Cmd
}

// PrepareBegin prices the request's worst case and prepares its reservation, holding
// nothing yet.
func (s *Service) PrepareBegin(req Request) *BeginCall {
	amount := WorstCaseOf(req.PromptTokens, req.MaxTokens, s.fallbackMax, req.Prices...)
	res, err := s.ledger.newReservation(ReserveRequest{RequestID: req.RequestID, Attempt: 1,
		Budgets: req.Budgets, Amount: amount})
	return &BeginCall{s: s, req: req, res: res, err: err}
}

// Queue queues the reservation's script on pipe, a pipeline of client, when the budget
// counters live in client's Redis.
func (c *BeginCall) Queue(ctx context.Context, client redis.Scripter, pipe redis.Pipeliner) {
	if c.err == nil && c.cmd == nil {
		c.cmd = c.s.ledger.queueReserve(ctx, c.res, client, pipe)
	}
}

// Ticket completes Begin: it reads the queued script's reply, or reserves now.
func (c *BeginCall) Ticket(ctx context.Context) (*Ticket, error) {
	if c.err != nil {
		return nil, c.err
	}
	if err := c.s.ledger.hold(ctx, c.res, c.cmd); err != nil {
		return nil, err
	}
	// The row's time is the reservation's, so that its rollup day and the budget
	// period it was counted in are the same even across midnight.
	return &Ticket{req: c.req, res: c.res, start: c.res.At}, nil
}

// Drop abandons a BeginCall whose request was refused by its rate limits: budget its
// queued script held is given back (one more round trip, on refusals only). It does
// nothing when nothing was queued or held.
func (c *BeginCall) Drop(ctx context.Context) error {
	if c.err != nil {
		return nil
	}
	return c.s.ledger.drop(ctx, c.res, c.cmd)
}

// Cancel gives a begun request's reservation back without billing it, for a request
// its rate limits refused after its budget was held (the two are decided in one round
// trip). Finish after Cancel does nothing.
func (s *Service) Cancel(ctx context.Context, t *Ticket) error {
	if t == nil || !t.finished.CompareAndSwap(false, true) {
		return nil
	}
	return s.ledger.Release(context.WithoutCancel(ctx), t.res)
}

// FinishCall is Finish in two steps, so that its settlement can share a round trip
// with the rate limiter's: PrepareFinish prices the outcome and queues the spend rows,
// the limiter may queue the settlement on its pipeline (Queue, a quota.Rider), and Done
// reads the reply (or settles now), tells the alerts and logs. A FinishCall is used
// once, by one goroutine.
type FinishCall struct {
	s       *Service
	t       *Ticket
	row     store.SpendRow
	total   Money
	errs    []error
	claimed bool
	cmd     *redis.Cmd
}

// PrepareFinish starts Finish: it prices the outcome and queues the spend rows (never
// lost, even when the ledger cannot be reached). A second PrepareFinish of a ticket, or
// one after Cancel, does nothing.
func (s *Service) PrepareFinish(ctx context.Context, t *Ticket, o Outcome) *FinishCall {
	c := &FinishCall{s: s, t: t}
	if t == nil || !t.finished.CompareAndSwap(false, true) {
		c.t = nil
		return c
	}
	rows, total := t.rows(o)
	c.row, c.total = rows[0], total
	// A client that went away cancels ctx; its request is billed all the same.
	if err := s.sink.Append(context.WithoutCancel(ctx), rows...); err != nil {
		c.errs = append(c.errs, err)
	}
	c.claimed = t.res.claim()
	return c
}

// Row returns the request's spend row (zero when the call does nothing).
func (c *FinishCall) Row() store.SpendRow { return c.row }

// Queue queues the settlement's script on pipe, a pipeline of client, when the budget
// counters live in client's Redis.
func (c *FinishCall) Queue(ctx context.Context, client redis.Scripter, pipe redis.Pipeliner) {
	if c.claimed && c.cmd == nil {
		c.cmd = c.s.ledger.queueSettle(ctx, c.t.res, c.total, client, pipe)
	}
}

// Done completes Finish and returns the request's row. Errors are logged and returned.
func (c *FinishCall) Done(ctx context.Context) (store.SpendRow, error) {
	if c.t == nil {
		return store.SpendRow{}, nil
	}
	s, t := c.s, c.t
	if c.claimed {
		states, err := s.ledger.settleClaimed(context.WithoutCancel(ctx), t.res, c.total, c.cmd)
		if err != nil {
			c.errs = append(c.errs, fmt.Errorf("settling budget: %w", err))
		}
		if s.alerts != nil && len(states) > 0 {
			s.alerts.Observe(states)
		}
	}
	if c.row.UsageSource != SourceProvider && c.row.Status < 400 {
		s.log.Debug("request billed from tollgate's count", "request_id", t.req.RequestID,
			"usage_source", c.row.UsageSource, "completion_tokens", c.row.CompletionTokens)
	}
	err := errors.Join(c.errs...)
	if err != nil {
		s.log.Error("billing a request", "request_id", t.req.RequestID, "error", err)
	}
	return c.row, err
}
