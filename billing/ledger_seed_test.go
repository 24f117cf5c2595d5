package billing

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// TestParentBudgetSeededWithChildSpend checks that a parent key's budget, seeded again
// from the database (a restarted process, or Redis counters that expired), counts what
// its ephemeral children spent earlier in the period: the parent is refused once its
// children and it together reach the limit, on both stores and both counter backends.
func TestParentBudgetSeededWithChildSpend(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		for _, backend := range []string{"memory", "redis"} {
			t.Run(backend, func(t *testing.T) {
				newLedger := func() *Ledger {
					o := LedgerOptions{Spend: db, Now: func() time.Time { return seedNow }}
					if backend == "redis" {
						// A fresh prefix each time: counters start empty, as after a
						// Redis restart or expiry.
						o.Redis, o.RedisPrefix = testRedis(t)
					}
					return mustLedger(t, o)
				}
				checkParentSeed(t, db, newLedger)
			})
		}
	})
}

// seedNow is the clock of TestParentBudgetSeededWithChildSpend: mid-month, so that the
// month's window holds spend from earlier days.
var seedNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func checkParentSeed(t *testing.T, db *store.DB, newLedger func() *Ledger) {
	ctx := context.Background()
	parent := Budget{Scope: ScopeKey, Subject: "parent-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		Limit: MustUSD("1"), Period: PeriodMonth}
	child := Budget{Scope: ScopeKey, Subject: parent.Subject + "-child", Limit: MustUSD("1"), Period: PeriodMonth}
	before := newLedger()
	var rows []store.SpendRow
	for i := range 3 {
		id := child.Subject + "-" + strconv.Itoa(i)
		res, err := before.Reserve(ctx, ReserveRequest{RequestID: id, Budgets: []Budget{child, parent}, Amount: MustUSD("0.3")})
		if err != nil {
			t.Fatalf("child request %d: %v", i, err)
		}
		if _, err := before.Settle(ctx, res, MustUSD("0.3")); err != nil {
			t.Fatal(err)
		}
		// What the spend writer records for the request, on an earlier day.
		rows = append(rows, store.SpendRow{ID: id, Time: seedNow.Add(-time.Duration(i+1) * 24 * time.Hour),
			RecordType: store.SpendRequest, RequestID: id, KeyID: child.Subject, ParentKeyID: parent.Subject,
			CostNano: int64(MustUSD("0.3")), UsageSource: "provider", Status: 200})
	}
	if _, err := db.InsertSpend(ctx, rows, time.UTC); err != nil {
		t.Fatal(err)
	}
	// A request of the parent's own, after the restart.
	after := newLedger()
	_, err := after.Reserve(ctx, ReserveRequest{RequestID: parent.Subject + "-big", Budgets: []Budget{parent}, Amount: MustUSD("0.2")})
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Status != 429 || ae.Code != "budget_exceeded" {
		t.Fatalf("the parent reserved $0.2 with $0.9 of its $1 spent by its children: %v", err)
	}
	if _, err := after.Reserve(ctx, ReserveRequest{RequestID: parent.Subject + "-small", Budgets: []Budget{parent}, Amount: MustUSD("0.1")}); err != nil {
		t.Fatalf("the parent was refused $0.1 of the $0.1 left: %v", err)
	}
	st, err := after.State(ctx, parent)
	if err != nil || st.Spent != MustUSD("0.9") {
		t.Fatalf("parent state after restart = %+v, %v; want $0.9 spent", st, err)
	}
}
