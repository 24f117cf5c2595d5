package billing

import (
	"strconv"
	"time"

	"github.com/tollgate-llm/tollgate/schema"
	"github.com/tollgate-llm/tollgate/store"
)

// Usage sources recorded on every spend row.
const (
	// SourceProvider means the upstream reported the usage.
	SourceProvider = "provider"
	// SourceEstimated means tollgate counted some or all of it: a stream cut short, or
	// an answer without usage.
	SourceEstimated = "estimated"
	// SourceNone means nothing could be counted; the cost (usually zero) is a lower bound.
	SourceNone = "none"
)

// Outcome is how a request ended, as the server saw it.
type Outcome struct {
	// Status is the HTTP status the client got (200 for a stream that started).
	Status int
	// ErrorCode is the apierr code of a failure, empty on success.
	ErrorCode string
	// Provider and UpstreamModel name the deployment that answered, or last failed.
	Provider, UpstreamModel string
	// Price is that deployment's price (Catalog.Price with the route's overrides).
	Price Price
	// Usage is what the upstream reported; HasUsage is false when it reported none.
	Usage    schema.Usage
	HasUsage bool
	Stream   bool
	// Cut is true when the answer ended early: the client went away, or the upstream
	// dropped the stream. Its usage is then completed by counting.
	Cut bool
	// Meter counted the generated text that reached tollgate; nil when there was none.
	Meter *StreamMeter
	// Attempts is how many upstream attempts the request took.
	Attempts int
	// Billed are failed attempts the provider still charged for.
	Billed        []AttemptCharge
	Latency, TTFT time.Duration
}

// AttemptCharge is a failed attempt that the provider billed, for instance a stream
// that broke after producing tokens before tollgate retried elsewhere.
type AttemptCharge struct {
	Attempt                 int
	Provider, UpstreamModel string
	Price                   Price
	Status                  int
	ErrorCode               string
	Usage                   schema.Usage
	HasUsage                bool
	// Meter counted what the attempt produced, when it reported no usage.
	Meter *StreamMeter
}

// resolveUsage decides the usage to bill and where it came from:
//
//   - complete upstream usage on an answer that ended normally: "provider";
//   - an answer cut short: the upstream's partial usage completed by counting — the
//     prompt estimate when no prompt count arrived, and the larger of the reported
//     and the counted completion tokens — "estimated" (the policy for disconnects:
//     the prompt and what was produced are billed);
//   - a successful answer without usage: the prompt estimate plus the counted output,
//     "estimated";
//   - a failure that produced nothing and reported nothing: zero, "none".
//
// When there is nothing at all to count the result is zero tokens and "none".
func resolveUsage(u schema.Usage, hasUsage, cut, failed bool, meter *StreamMeter, promptEstimate int64) (schema.Usage, string) {
	if hasUsage && !cut {
		return u, SourceProvider
	}
	var counted int64
	if meter != nil {
		counted = meter.Tokens()
	}
	if !hasUsage {
		u = schema.Usage{}
		if failed && counted == 0 {
			return u, SourceNone
		}
	}
	if u.PromptTokens == 0 {
		u.PromptTokens = promptEstimate
	}
	u.CompletionTokens = max(u.CompletionTokens, counted)
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	if u.PromptTokens == 0 && u.CompletionTokens == 0 {
		return u, SourceNone
	}
	return u, SourceEstimated
}

// spendRow builds the row of a request or attempt.
func (t *Ticket) spendRow(id, kind string, attempt int, provider, upstream string, status int,
	errCode string, u schema.Usage, source string, price Price) store.SpendRow {
	return store.SpendRow{ID: id, Time: t.start, RecordType: kind, RequestID: t.req.RequestID,
		Attempt: attempt, KeyID: t.req.KeyID, ParentKeyID: t.req.ParentKeyID, Project: t.req.Project,
		Endpoint: t.req.Endpoint, Model: t.req.Model, Provider: provider, UpstreamModel: upstream,
		Status: status, Stream: t.req.Stream, PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens,
		CachedTokens: u.CachedTokens, CacheWriteTokens: u.CacheWriteTokens, ReasoningTokens: u.ReasoningTokens,
		CostNano: int64(price.Cost(u)), UsageSource: source, PriceVersion: price.Version,
		ErrorCode: errCode, SourceIP: t.req.SourceIP, UserAgent: t.req.UserAgent}
}

// rows builds the request's row and one per billed failed attempt, and their total cost.
func (t *Ticket) rows(o Outcome) ([]store.SpendRow, Money) {
	u, source := resolveUsage(o.Usage, o.HasUsage, o.Cut, o.Status >= 400, o.Meter, t.req.PromptTokens)
	main := t.spendRow(t.req.RequestID, store.SpendRequest, max(o.Attempts, 1), o.Provider, o.UpstreamModel,
		o.Status, o.ErrorCode, u, source, o.Price)
	main.LatencyMS, main.TTFTMS, main.Attempts = o.Latency.Milliseconds(), o.TTFT.Milliseconds(), o.Attempts
	rows := []store.SpendRow{main}
	total := Money(main.CostNano)
	for _, a := range o.Billed {
		au, asrc := resolveUsage(a.Usage, a.HasUsage, !a.HasUsage, false, a.Meter, t.req.PromptTokens)
		r := t.spendRow(t.req.RequestID+"/"+strconv.Itoa(a.Attempt), store.SpendAttempt, a.Attempt,
			a.Provider, a.UpstreamModel, a.Status, a.ErrorCode, au, asrc, a.Price)
		rows = append(rows, r)
		total += Money(r.CostNano)
	}
	return rows, total
}
