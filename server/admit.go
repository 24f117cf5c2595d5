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
	Settle(ctx context.Context, d *quota.Decision, actualTokens int64) error
	Release(ctx context.Context, d *quota.Decision) error
}

// Biller reserves a request's worst-case cost and bills it; billing.Service is one.
type Biller interface {
	Begin(ctx context.Context, req billing.Request) (*billing.Ticket, error)
	Finish(ctx context.Context, t *billing.Ticket, o billing.Outcome) (store.SpendRow, error)
}

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
	if s.Limiter != nil {
		d, err := s.Limiter.Allow(ctx, quota.Request{RequestID: ri.id, EstimatedTokens: a.estimate,
			Limits: s.Accounts.Limits(ri.principal, req.Model)})
		if d != nil {
			quota.SetHeaders(c.Writer.Header(), d)
		}
		if err != nil {
			return nil, err
		}
		a.decision = d
	}
	if s.Biller != nil {
		p := ri.principal
		prompt, maxOut := splitEstimate(req, a.estimate, defaultOut)
		t, err := s.Biller.Begin(ctx, billing.Request{RequestID: ri.id, KeyID: p.ID, ParentKeyID: p.ParentID,
			Project: p.Project, Endpoint: string(req.Endpoint), Model: req.Model, Stream: req.Stream,
			Budgets: s.Accounts.Budgets(p), Prices: prices, PromptTokens: prompt,
			MaxTokens: maxOut, SourceIP: c.ClientIP(), UserAgent: telemetry.Redact(c.Request.UserAgent())})
		if err != nil {
			a.release(ctx, 0)
			return nil, err
		}
		a.ticket = t
		if req.Stream {
			a.meter = billing.NewStreamMeter(req.Model)
		}
	}
	return a, nil
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
// the client's context: a client that left is billed all the same.
func (a *admission) finish(ctx context.Context, ri *reqInfo, status int, usage schema.Usage, hasUsage, cut bool) {
	ctx = context.WithoutCancel(ctx)
	tokens := usage.PromptTokens + usage.CompletionTokens
	if a.ticket != nil {
		row, _ := a.s.Biller.Finish(ctx, a.ticket, billing.Outcome{Status: status, ErrorCode: ri.errCode,
			Provider: ri.provider, UpstreamModel: ri.upstream,
			Price: a.s.Accounts.PriceOf(ri.model, ri.provider, ri.upstream), Usage: usage, HasUsage: hasUsage,
			Stream: ri.stream, Cut: cut, Meter: a.meter, Attempts: ri.attempts,
			Latency: time.Since(ri.start), TTFT: ri.ttft})
		tokens = row.PromptTokens + row.CompletionTokens
		ri.cost = row.CostNano
		if !hasUsage {
			ri.prompt, ri.complete = row.PromptTokens, row.CompletionTokens
		}
	}
	a.release(ctx, tokens)
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
// slot.
func (a *admission) release(ctx context.Context, tokens int64) {
	if a.decision == nil || a.s.Limiter == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if err := a.s.Limiter.Settle(ctx, a.decision, tokens); err != nil {
		a.s.log.Warn("settling rate limits", "error", err)
	}
	if err := a.s.Limiter.Release(ctx, a.decision); err != nil {
		a.s.log.Warn("releasing a concurrency slot", "error", err)
	}
}

// statusOf is the HTTP status an error answered with.
func statusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	return apierr.From(err).Status
}
