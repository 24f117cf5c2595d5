package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// spendRow builds a request row at t.
func spendRow(id string, t time.Time, key, model string, cost int64) store.SpendRow {
	return store.SpendRow{ID: id, Time: t, RecordType: store.SpendRequest, RequestID: id, Attempt: 1,
		KeyID: key, Project: "p-" + key, Endpoint: "chat", Model: model, Provider: "openai",
		UpstreamModel: model, Status: 200, Stream: true, PromptTokens: 10, CompletionTokens: 5,
		CachedTokens: 2, CostNano: cost, UsageSource: "provider", PriceVersion: "openai/" + model + "@1",
		Attempts: 1, SourceIP: "10.0.0.1", UserAgent: "test"}
}

func TestInsertSpendIsIdempotent(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 11, 3, 10, 30, 0, 0, time.UTC)
		rows := []store.SpendRow{spendRow("a", at, "k1", "gpt-4o", 100), spendRow("b", at, "k1", "gpt-4o", 200)}
		attempt := spendRow("a/1", at, "k1", "gpt-4o", 50)
		attempt.RecordType, attempt.Status = store.SpendAttempt, 503
		rows = append(rows, attempt)
		if n, err := db.InsertSpend(ctx, rows, time.UTC); err != nil || n != 3 {
			t.Fatalf("InsertSpend = %d, %v", n, err)
		}
		// A replay of the same batch, plus one new row and a duplicate inside the batch.
		again := append(slices.Clone(rows), spendRow("c", at, "k1", "gpt-4o", 1), spendRow("c", at, "k1", "gpt-4o", 1))
		if n, err := db.InsertSpend(ctx, again, time.UTC); err != nil || n != 1 {
			t.Fatalf("replay InsertSpend = %d, %v; want only the new row", n, err)
		}
		if n, _ := db.CountSpend(ctx); n != 4 {
			t.Fatalf("spend_log has %d rows, want 4", n)
		}
		rep, err := db.SpendReport(ctx, store.SpendQuery{From: at.Add(-24 * time.Hour), To: at.Add(24 * time.Hour), GroupBy: store.GroupKey})
		if err != nil {
			t.Fatal(err)
		}
		want := []store.SpendGroup{{Group: "k1", Requests: 3, PromptTokens: 40, CompletionTokens: 20, CachedTokens: 8, CostNano: 351}}
		if !slices.Equal(rep, want) {
			t.Fatalf("report = %+v, want %+v (attempt rows cost but are not requests)", rep, want)
		}
	})
}

func TestSpentSinceIncludesChildKeys(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		loc, _ := time.LoadLocation("America/New_York")
		monthStart := time.Date(2026, 11, 1, 0, 0, 0, 0, loc)
		child := spendRow("c1", monthStart.Add(time.Hour), "child", "m", 7)
		child.ParentKeyID, child.Project = "parent", "acme"
		own := spendRow("p1", monthStart.Add(2*time.Hour), "parent", "m", 5)
		own.Project = "acme"
		before := spendRow("p0", monthStart.Add(-time.Minute), "parent", "m", 1000)
		before.Project = "acme"
		if _, err := db.InsertSpend(ctx, []store.SpendRow{child, own, before}, loc); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			scope, subject string
			want           int64
		}{
			{store.BudgetScopeKey, "parent", 12},
			{store.BudgetScopeKey, "child", 7},
			{store.BudgetScopeProject, "acme", 12},
			{store.BudgetScopeKey, "nobody", 0},
		} {
			got, err := db.SpentSince(ctx, tt.scope, tt.subject, monthStart)
			if err != nil || got != tt.want {
				t.Errorf("SpentSince(%s %s) = %d, %v; want %d", tt.scope, tt.subject, got, err, tt.want)
			}
		}
		if got, _ := db.SpentSince(ctx, store.BudgetScopeKey, "parent", time.Unix(0, 0)); got != 1012 {
			t.Errorf("total spend = %d, want 1012", got)
		}
	})
}

func TestClaimBudgetAlertOnce(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		first, err := db.ClaimBudgetAlert(ctx, "key", "k1", start, 80)
		if err != nil || !first {
			t.Fatalf("first claim = %v, %v", first, err)
		}
		if again, _ := db.ClaimBudgetAlert(ctx, "key", "k1", start, 80); again {
			t.Error("second claim of the same threshold succeeded")
		}
		if other, _ := db.ClaimBudgetAlert(ctx, "key", "k1", start.AddDate(0, 1, 0), 80); !other {
			t.Error("the next period's claim failed")
		}
	})
}

func TestDeleteSpendBeforeInBatches(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var rows []store.SpendRow
		for i := range 25 {
			rows = append(rows, spendRow(fmt.Sprintf("r%02d", i), base.Add(time.Duration(i)*time.Hour), "k", "m", 1))
		}
		if _, err := db.InsertSpend(ctx, rows, time.UTC); err != nil {
			t.Fatal(err)
		}
		cut := base.Add(20 * time.Hour) // Rows 0..19 are older.
		var batches []int64
		for {
			n, err := db.DeleteSpendBefore(ctx, store.PruneSpendLog, cut, 8)
			if err != nil {
				t.Fatal(err)
			}
			batches = append(batches, n)
			if n < 8 {
				break
			}
		}
		if !slices.Equal(batches, []int64{8, 8, 4}) {
			t.Errorf("batches = %v, want [8 8 4]", batches)
		}
		if n, _ := db.CountSpend(ctx); n != 5 {
			t.Errorf("%d rows left, want 5", n)
		}
		if n, err := db.DeleteSpendBefore(ctx, store.PruneSpendHourly, cut, 100); err != nil || n != 20 {
			t.Errorf("hourly pruned %d, %v; want 20", n, err)
		}
		// Daily rollups stay: total budgets read them.
		if got, _ := db.SpentSince(ctx, store.BudgetScopeKey, "k", base); got != 25 {
			t.Errorf("daily rollup after pruning = %d, want 25", got)
		}
	})
}

// TestSpendReportMatchesRawLog compares reports over ragged ranges, in time zones with
// whole- and half-hour offsets, with sums computed here from the rows themselves.
func TestSpendReportMatchesRawLog(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(7, 7))
		for _, zone := range []string{"UTC", "America/New_York", "Asia/Kolkata"} {
			loc, _ := time.LoadLocation(zone)
			base := time.Date(2026, 10, 30, 0, 0, 0, 0, loc) // Spans the US DST change.
			var rows []store.SpendRow
			for i := range 400 {
				at := base.Add(time.Duration(rng.Int64N(int64(6 * 24 * time.Hour))))
				r := spendRow(fmt.Sprintf("%s-%d", zone, i), at, fmt.Sprintf("k%d", i%3), fmt.Sprintf("m%d", i%4), int64(i+1))
				r.Provider = zone
				rows = append(rows, r)
			}
			if _, err := db.InsertSpend(ctx, rows, loc); err != nil {
				t.Fatal(err)
			}
			from := base.Add(13*time.Hour + 17*time.Minute)
			to := base.Add(4*24*time.Hour + 5*time.Hour + 41*time.Minute)
			for _, group := range []string{store.GroupModel, store.GroupDay, store.GroupHour} {
				got, err := db.SpendReport(ctx, store.SpendQuery{From: from, To: to, Provider: zone, GroupBy: group, Location: loc})
				if err != nil {
					t.Fatal(err)
				}
				want := rawReport(rows, from, to, group, loc)
				if !slices.Equal(got, want) {
					t.Errorf("%s by %s:\n got %+v\nwant %+v", zone, group, got, want)
				}
			}
		}
	})
}

// rawReport sums rows in [from, to) by group, as SpendReport should.
func rawReport(rows []store.SpendRow, from, to time.Time, group string, loc *time.Location) []store.SpendGroup {
	sums := map[string]*store.SpendGroup{}
	for _, r := range rows {
		if r.Time.Before(from) || !r.Time.Before(to) {
			continue
		}
		g := r.Model
		switch group {
		case store.GroupDay:
			g = r.Time.In(loc).Format(time.DateOnly)
		case store.GroupHour:
			g = r.Time.Truncate(time.Hour).In(loc).Format(time.RFC3339)
		}
		s := sums[g]
		if s == nil {
			s = &store.SpendGroup{Group: g}
			sums[g] = s
		}
		s.Requests++
		s.PromptTokens += r.PromptTokens
		s.CompletionTokens += r.CompletionTokens
		s.CachedTokens += r.CachedTokens
		s.CostNano += r.CostNano
	}
	var out []store.SpendGroup
	for _, s := range sums {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b store.SpendGroup) int {
		if group == store.GroupHour { // RFC 3339 with offsets sorts by instant only in one zone.
			ta, _ := time.Parse(time.RFC3339, a.Group)
			tb, _ := time.Parse(time.RFC3339, b.Group)
			return ta.Compare(tb)
		}
		return compareStrings(a.Group, b.Group)
	})
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestListSpendLogPaging(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
		var rows []store.SpendRow
		for i := range 7 {
			r := spendRow(fmt.Sprintf("id%d", i), at.Add(time.Duration(i/2)*time.Second), "k", "m", 1)
			if i == 3 {
				r.Status, r.KeyID = 502, "other"
			}
			rows = append(rows, r)
		}
		if _, err := db.InsertSpend(ctx, rows, time.UTC); err != nil {
			t.Fatal(err)
		}
		var ids []string
		q := store.SpendLogQuery{Limit: 3}
		for {
			page, err := db.ListSpendLog(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page {
				ids = append(ids, r.ID)
			}
			if len(page) < 3 {
				break
			}
			last := page[len(page)-1]
			q.BeforeTime, q.BeforeID = last.Time, last.ID
		}
		if want := []string{"id6", "id5", "id4", "id3", "id2", "id1", "id0"}; !slices.Equal(ids, want) {
			t.Errorf("paged ids = %v, want %v", ids, want)
		}
		errs, _ := db.ListSpendLog(ctx, store.SpendLogQuery{StatusMin: 500, StatusMax: 599})
		if len(errs) != 1 || errs[0].ID != "id3" || errs[0].UserAgent != "test" || !errs[0].Stream || !errs[0].Time.Equal(rows[3].Time) {
			t.Errorf("5xx rows = %+v", errs)
		}
		byKey, _ := db.ListSpendLog(ctx, store.SpendLogQuery{KeyID: "other"})
		if len(byKey) != 1 || byKey[0].Status != 502 {
			t.Errorf("key filter = %+v", byKey)
		}
	})
}
