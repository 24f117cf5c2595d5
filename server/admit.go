package server

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/tidwall/gjson"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/quota"
	"github.com/tollgate-llm/tollgate/schema"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/telemetry"
)

// Limiter decides rate limits; quota.Limiter is one.
type Limiter interface {
	Allow(ctx context.Context, req quota.Request) (*quota.Decision, error)
	// Finish settles the tokens and frees the concurrency slot, in one call.
	Finish(ctx context.Context, d *quota.Decision, actualTokens int64) error
	// Cancel gives back all the decision took, for a request its budget refused.
	Cancel(ctx context.Context, d *quota.Decision) error
}

// Biller reserves a request's worst-case cost and bills it; billing.Service is one.
type Biller interface {
	Begin(ctx context.Context, req billing.Request) (*billing.Ticket, error)
	Finish(ctx context.Context, t *billing.Ticket, o billing.Outcome) (store.SpendRow, error)
}

// sharingLimiter is a Limiter whose Redis round trips can carry another call;
// quota.Redis is one.
type sharingLimiter interface {
	AllowWith(ctx context.Context, req quota.Request, rider quota.Rider) (*quota.Decision, error)
	FinishWith(ctx context.Context, d *quota.Decision, actualTokens int64, rider quota.Rider) error
}

// splitBiller is a Biller whose Begin and Finish come in steps, so that their Redis
// calls can ride on the limiter's round trips; billing.Service is one.
type splitBiller interface {
	PrepareBegin(req billing.Request) *billing.BeginCall
	PrepareFinish(ctx context.Context, t *billing.Ticket, o billing.Outcome) *billing.FinishCall
	Cancel(ctx context.Context, t *billing.Ticket) error
}

var (
	_ quota.Rider = (*billing.BeginCall)(nil)
	_ quota.Rider = (*billing.FinishCall)(nil)
)

// Accounts says which limits, budgets and prices apply to a request.
type Accounts interface {
	// Limits are the rate limits above the principal: its key's (and its parent's),
	// its project's, and the model's gateway-wide limit.
	Limits(p *keys.Principal, model string) []quota.Limit
	// Budgets are the budgets above the principal: its own, its parent's, its project's.
	Budgets(p *keys.Principal) []billing.Budget
	// Prices are the prices of every deployment that may serve a model, fallbacks
	// included, and the default output cap for its worst case.
	Prices(model string) (prices []billing.Price, defaultOutput int64)
	// PriceOf is the price of the deployment that answered.
	PriceOf(model, provider, upstreamModel string) billing.Price
}

// AccountDeps are the rate limiter, the biller and the accounts of requests. Any of
// them may be nil: a gateway without them forwards without limits or billing.
type AccountDeps struct {
	Limiter  Limiter
	Biller   Biller
	Accounts Accounts
}

// admission is a request let in by the limits and budgets; finish settles both, once.
type admission struct {
	s        *Server
	decision *quota.Decision
	ticket   *billing.Ticket
	meter    *billing.StreamMeter
	estimate int64
}

// admit estimates the request's tokens, takes its rate limits (all or nothing) and
// reserves its worst-case cost against every budget above the key. The rate-limit
// headers are set on the response whatever the outcome.
func (s *Server) admit(c *gin.Context, ri *reqInfo, req *schema.Request) (*admission, error) {
	a := &admission{s: s}
	if s.Accounts == nil {
		return a, nil
	}
	ctx := c.Request.Context()
	prices, defaultOut := s.Accounts.Prices(req.Model)
	a.estimate = quota.Estimate(req, defaultOut)
	var lreq *quota.Request
	if s.Limiter != nil {
		lreq = &quota.Request{RequestID: ri.id, EstimatedTokens: a.estimate,
			Limits: s.Accounts.Limits(ri.principal, req.Model)}
	}
	var breq *billing.Request
	if s.Biller != nil {
		p := ri.principal
		prompt, maxOut := splitEstimate(req, a.estimate, defaultOut)
		breq = &billing.Request{RequestID: ri.id, KeyID: p.ID, ParentKeyID: p.ParentID,
			Project: p.Project, Endpoint: string(req.Endpoint), Model: req.Model, Stream: req.Stream,
			Budgets: s.Accounts.Budgets(p), Prices: prices, PromptTokens: prompt,
			MaxTokens: maxOut, SourceIP: ri.clientIP, UserAgent: telemetry.Redact(c.Request.UserAgent())}
	}
	if err := a.take(ctx, c.Writer.Header(), lreq, breq); err != nil {
		return nil, err
	}
	if a.ticket != nil && req.Stream {
		a.meter = billing.NewStreamMeter(req.Model)
	}
	return a, nil
}

// take takes the rate limits (lreq) and reserves the budget (breq), either of them nil
// when not configured, all or nothing: a request refused by one keeps nothing of the
// other. When both keep their counters in one Redis, both scripts go in one round trip,
// and a refusal by one costs a second to give back what the other took.
func (a *admission) take(ctx context.Context, h http.Header, lreq *quota.Request, breq *billing.Request) error {
	s := a.s
	var begin *billing.BeginCall
	if sb, ok := s.Biller.(splitBiller); ok && breq != nil {
		begin = sb.PrepareBegin(*breq)
	}
	if lreq != nil {
		if err := a.allow(ctx, h, *lreq, begin); err != nil {
			return err
		}
	}
	if breq == nil {
		return nil
	}
	var t *billing.Ticket
	var err error
	if begin != nil {
		t, err = begin.Ticket(ctx)
	} else {
		t, err = s.Biller.Begin(ctx, *breq)
	}
	if err != nil {
		a.cancel(ctx)
		return err
	}
	a.ticket = t
	return nil
}

// allow takes the rate limits, with begin's script in the same round trip when the
// limiter can carry it. A refused request gives back the budget begin held.
func (a *admission) allow(ctx context.Context, h http.Header, req quota.Request, begin *billing.BeginCall) error {
	var d *quota.Decision
	var err error
	if sl, ok := a.s.Limiter.(sharingLimiter); ok && begin != nil {
		d, err = sl.AllowWith(ctx, req, begin)
	} else {
		d, err = a.s.Limiter.Allow(ctx, req)
	}
	if d != nil {
		quota.SetHeaders(h, d)
	}
	if err != nil {
		if begin != nil {
			if derr := begin.Drop(ctx); derr != nil {
				a.s.log.Warn("giving back the budget of a rate-limited request", "error", derr)
			}
		}
		return err
	}
	a.decision = d
	return nil
}

// splitEstimate splits quota.Estimate's tokens into the prompt and the output it
// counted (max_tokens, or defaultOut without it, for each of n choices; none for
// embeddings). The prompt alone is what a cut stream is billed for when the upstream
// sent no count. maxOut is max_tokens for all n choices, zero without max_tokens.
func splitEstimate(req *schema.Request, estimate, defaultOut int64) (prompt, maxOut int64) {
	if req.Endpoint == schema.EndpointEmbeddings {
		return estimate, 0
	}
	n := max(gjson.GetBytes(req.Body, "n").Int(), 1)
	out := req.MaxTokens
	if out <= 0 {
		out = max(defaultOut, 0)
	} else {
		maxOut = out * n
	}
	return estimate - out*n, maxOut
}

// finish bills the request from its outcome and settles the rate limits to the tokens
// it really used. It runs once per admitted request, whatever happened, and never with
// the client's context: a client that left is billed all the same. When the limiter
// and the ledger share a Redis, both settle in one round trip.
func (a *admission) finish(ctx context.Context, ri *reqInfo, status int, usage schema.Usage, hasUsage, cut bool) {
	ctx = context.WithoutCancel(ctx)
	tokens := usage.PromptTokens + usage.CompletionTokens
	var bill *billing.FinishCall
	if a.ticket != nil {
		o := billing.Outcome{Status: status, ErrorCode: ri.errCode,
			Provider: ri.provider, UpstreamModel: ri.upstream,
			Price: a.s.Accounts.PriceOf(ri.model, ri.provider, ri.upstream), Usage: usage, HasUsage: hasUsage,
			Stream: ri.stream, Cut: cut, Meter: a.meter, Attempts: ri.attempts,
			Latency: time.Since(ri.start), TTFT: ri.ttft}
		var row store.SpendRow
		if sb, ok := a.s.Biller.(splitBiller); ok {
			bill = sb.PrepareFinish(ctx, a.ticket, o)
			row = bill.Row()
		} else {
			row, _ = a.s.Biller.Finish(ctx, a.ticket, o)
		}
		tokens = row.PromptTokens + row.CompletionTokens
		ri.cost = row.CostNano
		if !hasUsage {
			ri.prompt, ri.complete = row.PromptTokens, row.CompletionTokens
		}
	}
	a.release(ctx, tokens, bill)
	if bill != nil {
		_, _ = bill.Done(ctx) // Done logs its errors.
	}
}

// count meters a complete answer that came without usage, so that it is billed from
// tollgate's own count rather than at zero.
func (a *admission) count(model string, body []byte) {
	if a.ticket == nil {
		return
	}
	a.meter = billing.NewStreamMeter(model)
	a.meter.AddChunk(body)
}

// release settles the rate limits' token window to tokens and frees the concurrency
// slot, in one call; bill, when set, is the billing settlement to send along.
func (a *admission) release(ctx context.Context, tokens int64, bill *billing.FinishCall) {
	if a.decision == nil || a.s.Limiter == nil {
		return
	}
	var err error
	if sl, ok := a.s.Limiter.(sharingLimiter); ok && bill != nil {
		err = sl.FinishWith(ctx, a.decision, tokens, bill)
	} else {
		err = a.s.Limiter.Finish(ctx, a.decision, tokens)
	}
	if err != nil {
		a.s.log.Warn("settling rate limits", "error", err)
	}
}

// cancel gives back all the rate limits took, for a request its budget refused.
func (a *admission) cancel(ctx context.Context) {
	if a.decision == nil || a.s.Limiter == nil {
		return
	}
	if err := a.s.Limiter.Cancel(ctx, a.decision); err != nil {
		a.s.log.Warn("giving back the rate limits of a request its budget refused", "error", err)
	}
	a.decision = nil
}

// statusOf is the HTTP status an error answered with.
func statusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	return apierr.From(err).Status
}
