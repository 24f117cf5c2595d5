package billing

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// seedReport stores a small known month of spend in Berlin time.
func seedReport(t *testing.T, db *store.DB, loc *time.Location) {
	t.Helper()
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, loc) }
	rows := []store.SpendRow{
		{ID: "r1", Time: day(2, 9), KeyID: "k1", Project: "acme", Model: "gpt-4o", Provider: "openai", PromptTokens: 100, CompletionTokens: 10, CachedTokens: 40, CostNano: int64(MustUSD("0.0015"))},
		{ID: "r2", Time: day(2, 23), KeyID: "k2", Project: "acme", Model: "claude-sonnet", Provider: "anthropic", PromptTokens: 200, CompletionTokens: 20, CostNano: int64(MustUSD("0.25"))},
		{ID: "r3", Time: day(3, 0), KeyID: "k1", Project: "acme", Model: "gpt-4o", Provider: "openai", PromptTokens: 50, CompletionTokens: 5, CostNano: int64(MustUSD("0.001"))},
		{ID: "r3/1", Time: day(3, 0), KeyID: "k1", Project: "acme", Model: "gpt-4o", Provider: "azure", PromptTokens: 50, CostNano: int64(MustUSD("0.0005")), RecordType: store.SpendAttempt, Status: 503},
		{ID: "r4", Time: day(1, 0).Add(-time.Second), KeyID: "k1", Project: "acme", Model: "gpt-4o", Provider: "openai", CostNano: 999}, // October in Berlin
	}
	for i := range rows {
		if rows[i].RecordType == "" {
			rows[i].RecordType, rows[i].Status = store.SpendRequest, 200
		}
		rows[i].RequestID, rows[i].UsageSource, rows[i].Endpoint = strings.Split(rows[i].ID, "/")[0], SourceProvider, "chat"
		rows[i].UserAgent = "=cmd|' /C calc'!A0" // A spreadsheet formula injection attempt.
	}
	if _, err := db.InsertSpend(context.Background(), rows, loc); err != nil {
		t.Fatal(err)
	}
}

func TestSpendReportAndCSV(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		berlin, _ := time.LoadLocation("Europe/Berlin")
		seedReport(t, db, berlin)
		r := NewReports(db, berlin, func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, berlin) })
		ctx := context.Background()

		f, err := r.ParseSpendFilter(url.Values{"group_by": {"model"}}) // Month to date, by default.
		if err != nil {
			t.Fatal(err)
		}
		rep, err := r.Spend(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var csv strings.Builder
		if err := WriteSpendCSV(&csv, rep); err != nil {
			t.Fatal(err)
		}
		want := "group,requests,prompt_tokens,completion_tokens,cached_tokens,cost_usd\n" +
			"claude-sonnet,1,200,20,0,0.25\n" +
			"gpt-4o,2,200,15,40,0.003\n" +
			"total,3,400,35,40,0.253\n"
		if csv.String() != want {
			t.Errorf("CSV =\n%s\nwant\n%s", csv.String(), want)
		}

		f, _ = r.ParseSpendFilter(url.Values{"group_by": {"day"}, "from": {"2026-11-02"}, "to": {"2026-11-03"}, "key_id": {"k1"}})
		rep, _ = r.Spend(ctx, f)
		if len(rep.Data) != 2 || rep.Data[0].Group != "2026-11-02" || rep.Data[1].Group != "2026-11-03" ||
			rep.Total.CostUSD != MustUSD("0.003") {
			t.Errorf("k1 by day = %+v", rep)
		}
		f, _ = r.ParseSpendFilter(url.Values{"group_by": {"provider"}, "from": {"2026-11-03T00:00:00+01:00"}})
		rep, _ = r.Spend(ctx, f)
		if len(rep.Data) != 2 || rep.Data[0].Group != "azure" || rep.Data[0].Requests != 0 || rep.Data[0].CostUSD != MustUSD("0.0005") {
			t.Errorf("by provider from Nov 3 = %+v", rep)
		}

		for _, q := range []url.Values{{"group_by": {"week"}}, {"from": {"yesterday"}}, {"from": {"2026-11-05"}, "to": {"2026-11-01"}}} {
			_, err := r.ParseSpendFilter(q)
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Status != 400 || ae.Param == "" {
				t.Errorf("%v: err = %v, want a 400 naming the parameter", q, err)
			}
		}
	})
}

func TestLogsPagingAndCSV(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		berlin, _ := time.LoadLocation("Europe/Berlin")
		seedReport(t, db, berlin)
		r := NewReports(db, berlin, nil)
		ctx := context.Background()
		var ids []string
		q := url.Values{"limit": {"2"}}
		for page := 0; ; page++ {
			f, err := r.ParseLogFilter(q)
			if err != nil {
				t.Fatal(err)
			}
			p, err := r.Logs(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range p.Data {
				ids = append(ids, row.ID)
			}
			if p.NextCursor == "" {
				break
			}
			q.Set("cursor", p.NextCursor)
		}
		if got := strings.Join(ids, ","); got != "r3/1,r3,r2,r1,r4" {
			t.Errorf("paged ids = %s", got)
		}
		f, _ := r.ParseLogFilter(url.Values{"status": {"5xx"}})
		p, _ := r.Logs(ctx, f)
		if len(p.Data) != 1 || p.Data[0].Type != store.SpendAttempt || p.Data[0].CostUSD != MustUSD("0.0005") {
			t.Fatalf("5xx logs = %+v", p.Data)
		}
		var csv strings.Builder
		WriteLogsCSV(&csv, p.Data)
		lines := strings.Split(strings.TrimSpace(csv.String()), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[1], "r3/1,") || !strings.Contains(lines[1], ",0.0005,provider,") ||
			!strings.HasSuffix(lines[1], `,'=cmd|' /C calc'!A0`) {
			t.Errorf("logs CSV = %q", csv.String())
		}
		for _, q := range []url.Values{{"status": {"abc"}}, {"limit": {"0"}}, {"limit": {"5000"}}, {"cursor": {"!!"}}} {
			if _, err := r.ParseLogFilter(q); err == nil {
				t.Errorf("%v accepted", q)
			}
		}
	})
}

func TestPruneDeletesInBatches(t *testing.T) {
	db := storetest.Open(t, store.DialectSQLite)
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var rows []store.SpendRow
	for i := range 35 {
		r := testRow("old", i)
		r.Time = now.AddDate(0, 0, -40).Add(time.Duration(i) * time.Minute)
		rows = append(rows, r)
	}
	rows = append(rows, testRow("new", 1))
	rows[len(rows)-1].Time = now.Add(-time.Hour)
	if _, err := db.InsertSpend(context.Background(), rows, time.UTC); err != nil {
		t.Fatal(err)
	}
	deleted, err := Prune(context.Background(), RetentionOptions{Store: db, LogAge: 30 * 24 * time.Hour,
		BatchSize: 10, Pause: time.Millisecond, Now: func() time.Time { return now }})
	if err != nil || deleted[store.PruneSpendLog] != 35 {
		t.Fatalf("Prune = %v, %v; want 35 spend rows", deleted, err)
	}
	if n := countRows(t, db); n != 1 {
		t.Fatalf("%d rows left, want the recent one", n)
	}
	if got, _ := db.SpentSince(context.Background(), "key", "k", time.Unix(0, 0)); got != 36*rowCost {
		t.Fatalf("daily rollups lost spend: %d", got)
	}
}
