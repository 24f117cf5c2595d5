package billing

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/quota"
	"github.com/tollgate-llm/tollgate/schema"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// billingFixture is a service over a real store and writer.
type billingFixture struct {
	db      *store.DB
	writer  *Writer
	ledger  *Ledger
	service *Service
	catalog *Catalog
}

func newBillingFixture(t *testing.T) *billingFixture {
	t.Helper()
	db := storetest.Open(t, store.DialectSQLite)
	f := &billingFixture{db: db, catalog: defaultCatalog(t)}
	f.writer = startWriter(t, WriterOptions{Store: db, SpillDir: t.TempDir()})
	f.ledger = mustLedger(t, LedgerOptions{Spend: db})
	s, err := NewService(ServiceOptions{Ledger: f.ledger, Sink: f.writer})
	if err != nil {
		t.Fatal(err)
	}
	f.service = s
	return f
}

// stored returns the row with id once the writer has written it.
func (f *billingFixture) stored(t *testing.T, id string) store.SpendRow {
	t.Helper()
	if err := f.writer.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows, err := f.db.ListSpendLog(context.Background(), store.SpendLogQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no spend row %s among %d", id, len(rows))
	return store.SpendRow{}
}

// streamFromFake asks fakellm for a stream of chunks words and feeds the chunks to a
// meter, hanging up after stopAfter content chunks (0: read to the end). It returns the
// usage of the final chunk, if one arrived.
func streamFromFake(t *testing.T, body []byte, chunks string, stopAfter int, meter *StreamMeter) (schema.Usage, bool) {
	t.Helper()
	srv := fakellm.New(fakellm.Options{})
	base, err := srv.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/chat/completions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer sk-test")
	req.Header.Set("X-Fake-Chunks", chunks)
	req.Header.Set("X-Fake-Chunk-Delay", "1ms")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var usage schema.Usage
	var hasUsage bool
	content := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		payload, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || payload == "[DONE]" {
			continue
		}
		meter.AddChunk([]byte(payload))
		var c struct {
			Choices []struct{ Delta struct{ Content string } }
			Usage   *struct {
				PromptTokens        int64 `json:"prompt_tokens"`
				CompletionTokens    int64 `json:"completion_tokens"`
				PromptTokensDetails struct {
					CachedTokens int64 `json:"cached_tokens"`
				} `json:"prompt_tokens_details"`
			}
		}
		json.Unmarshal([]byte(payload), &c)
		if c.Usage != nil {
			usage = schema.Usage{PromptTokens: c.Usage.PromptTokens, CompletionTokens: c.Usage.CompletionTokens,
				CachedTokens: c.Usage.PromptTokensDetails.CachedTokens}
			hasUsage = true
		}
		if len(c.Choices) > 0 && c.Choices[0].Delta.Content != "" {
			if content++; content == stopAfter {
				cancel() // The client hangs up.
				break
			}
		}
	}
	return usage, hasUsage
}

const chatRequest = `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},` +
	`"messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Tell me a long story about the sea."}]}`

// TestStreamCutShortIsBilledForWhatWasProduced is the acceptance point: a stream the
// client aborts after 20 of 200 chunks is billed for about 20 chunks plus the prompt,
// marked estimated, never at $0.
func TestStreamCutShortIsBilledForWhatWasProduced(t *testing.T) {
	f := newBillingFixture(t)
	price, _ := f.catalog.Price("openai", "gpt-4o-mini")
	prompt := quota.Estimate(&schema.Request{Endpoint: schema.EndpointChat, Body: []byte(chatRequest)}, 0)
	ticket, err := f.service.Begin(context.Background(), Request{RequestID: "req-cut", KeyID: "k1",
		Model: "gpt-4o-mini", Stream: true, Prices: []Price{price}, PromptTokens: prompt,
		Budgets: []Budget{{Scope: ScopeKey, Subject: "k1", Limit: MustUSD("5"), Period: PeriodDay}}})
	if err != nil {
		t.Fatal(err)
	}
	meter := NewStreamMeter("gpt-4o-mini")
	usage, hasUsage := streamFromFake(t, []byte(chatRequest), "200", 20, meter)
	if hasUsage {
		t.Fatal("the cut stream had a usage chunk; the test needs one without")
	}
	row, err := f.service.Finish(context.Background(), ticket, Outcome{Status: 200, Provider: "openai",
		UpstreamModel: "gpt-4o-mini", Price: price, Usage: usage, Stream: true, Cut: true, Meter: meter, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("billed %d prompt + %d completion tokens (%s) for %d chunks read", row.PromptTokens, row.CompletionTokens, Money(row.CostNano), meter.Chunks())
	if row.CompletionTokens < 19 || row.CompletionTokens > 21 || row.PromptTokens != prompt {
		t.Errorf("billed %d prompt + %d completion tokens, want %d + about 20", row.PromptTokens, row.CompletionTokens, prompt)
	}
	want := price.Cost(schema.Usage{PromptTokens: row.PromptTokens, CompletionTokens: row.CompletionTokens})
	if row.UsageSource != SourceEstimated || row.CostNano == 0 || Money(row.CostNano) != want {
		t.Errorf("row = %s at %d nano, want estimated at %d", row.UsageSource, row.CostNano, want)
	}
	st, _ := f.ledger.State(context.Background(), Budget{Scope: ScopeKey, Subject: "k1", Limit: MustUSD("5"), Period: PeriodDay})
	if st.Spent != want || st.Reserved != 0 {
		t.Errorf("budget spent %s reserved %s, want %s and nothing held", st.Spent, st.Reserved, want)
	}
	if got := f.stored(t, "req-cut"); got.CostNano != row.CostNano || got.UsageSource != SourceEstimated || got.PriceVersion != "openai/gpt-4o-mini@1" {
		t.Errorf("stored row = %+v", got)
	}
}

// TestCompleteStreamIsBilledFromProviderUsage prices the upstream's usage, cached
// tokens at the cached rate.
func TestCompleteStreamIsBilledFromProviderUsage(t *testing.T) {
	f := newBillingFixture(t)
	price, _ := f.catalog.Price("openai", "gpt-4o-mini")
	ticket, _ := f.service.Begin(context.Background(), Request{RequestID: "req-full", Prices: []Price{price}})
	meter := NewStreamMeter("gpt-4o-mini")
	body := strings.Replace(chatRequest, `"stream":true`, `"stream":true,"fakellm":{"cached_tokens":1000}`, 1)
	usage, hasUsage := streamFromFake(t, []byte(body), "30", 0, meter)
	if !hasUsage || usage.CachedTokens != 1000 {
		t.Fatalf("usage = %+v, %v", usage, hasUsage)
	}
	row, _ := f.service.Finish(context.Background(), ticket, Outcome{Status: 200, Provider: "openai",
		Price: price, Usage: usage, HasUsage: true, Stream: true, Meter: meter, Attempts: 1})
	// 1,000 cached × $0.075 + (prompt-1,000) × $0.15 + 30 × $0.60, per million.
	want := MustUSD("0.000075") + Money(usage.PromptTokens-1000)*150 + 30*600
	if row.UsageSource != SourceProvider || Money(row.CostNano) != want || meter.Tokens() != 30 {
		t.Errorf("row %s cost %d, want provider %d (meter counted %d)", row.UsageSource, row.CostNano, want, meter.Tokens())
	}
}

func TestServiceBudgetsAndBilledAttempts(t *testing.T) {
	f := newBillingFixture(t)
	ctx := context.Background()
	price, _ := f.catalog.Price("anthropic", "claude-haiku-4-5")
	budget := Budget{Scope: ScopeProject, Subject: "acme", Limit: MustUSD("0.02"), Period: PeriodMonth}
	req := Request{RequestID: "req-1", KeyID: "k", Project: "acme", Prices: []Price{price},
		PromptTokens: 1000, MaxTokens: 1000, Budgets: []Budget{budget}}
	ticket, err := f.service.Begin(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	// Worst case: 1,000 × $1.25 (cache write) + 1,000 × $5 = $0.00625.
	if ticket.Reserved() != MustUSD("0.00625") {
		t.Fatalf("reserved %s", ticket.Reserved())
	}
	broken := NewStreamMeter("claude-haiku-4-5")
	broken.AddText("partial answer before the upstream broke")
	out := Outcome{Status: 200, Provider: "anthropic", Price: price, HasUsage: true, Attempts: 2,
		Usage:  schema.Usage{PromptTokens: 1000, CompletionTokens: 100},
		Billed: []AttemptCharge{{Attempt: 1, Provider: "anthropic", Price: price, Status: 529, Meter: broken}}}
	row, err := f.service.Finish(ctx, ticket, out)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := f.service.Finish(ctx, ticket, out); again.ID != "" {
		t.Fatal("a second Finish billed again")
	}
	attempt := f.stored(t, "req-1/1")
	if attempt.RecordType != store.SpendAttempt || attempt.UsageSource != SourceEstimated || attempt.CostNano == 0 ||
		attempt.PromptTokens != 1000 || attempt.Status != 529 {
		t.Errorf("billed attempt row = %+v", attempt)
	}
	st, _ := f.ledger.State(ctx, budget)
	if st.Spent != Money(row.CostNano+attempt.CostNano) {
		t.Errorf("budget spent %s, want both rows' cost %d", st.Spent, row.CostNano+attempt.CostNano)
	}
	for i := range 3 { // Spend the rest of the budget.
		tk, err := f.service.Begin(ctx, Request{RequestID: "more" + string(rune('a'+i)), Project: "acme", Prices: []Price{price},
			PromptTokens: 1000, MaxTokens: 1000, Budgets: []Budget{budget}})
		if err != nil {
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Code != "budget_exceeded" || !strings.Contains(ae.Message, `project "acme"`) {
				t.Fatalf("refusal = %v, want budget_exceeded naming the project", err)
			}
			return
		}
		f.service.Finish(ctx, tk, Outcome{Status: 200, Price: price, HasUsage: true, Usage: schema.Usage{PromptTokens: 1000, CompletionTokens: 1000}})
	}
	t.Fatal("the project budget never refused")
}

func TestResolveUsage(t *testing.T) {
	meter := NewStreamMeter("gpt-4o")
	meter.AddText("one two three four five")
	tests := []struct {
		name                 string
		u                    schema.Usage
		has, cut, failed     bool
		m                    *StreamMeter
		wantPrompt, wantComp int64
		wantSource           string
	}{
		{"provider", schema.Usage{PromptTokens: 7, CompletionTokens: 9}, true, false, false, meter, 7, 9, SourceProvider},
		{"cut with partial usage", schema.Usage{PromptTokens: 7, CompletionTokens: 1}, true, true, false, meter, 7, 5, SourceEstimated},
		{"cut without usage", schema.Usage{}, false, true, false, meter, 100, 5, SourceEstimated},
		{"success without usage", schema.Usage{}, false, false, false, nil, 100, 0, SourceEstimated},
		{"failure, nothing produced", schema.Usage{}, false, false, true, nil, 0, 0, SourceNone},
		{"failure after output", schema.Usage{}, false, true, true, meter, 100, 5, SourceEstimated},
	}
	for _, tt := range tests {
		u, src := resolveUsage(tt.u, tt.has, tt.cut, tt.failed, tt.m, 100)
		if u.PromptTokens != tt.wantPrompt || u.CompletionTokens != tt.wantComp || src != tt.wantSource {
			t.Errorf("%s: %d+%d %s, want %d+%d %s", tt.name, u.PromptTokens, u.CompletionTokens, src,
				tt.wantPrompt, tt.wantComp, tt.wantSource)
		}
	}
	if u, src := resolveUsage(schema.Usage{}, false, true, false, nil, 0); src != SourceNone || u.PromptTokens != 0 {
		t.Errorf("nothing to count = %+v %s, want none", u, src)
	}
}
