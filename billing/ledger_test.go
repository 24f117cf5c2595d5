package billing

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// ledgerBackends runs fn against in-process counters and against Redis. newLedger
// builds a ledger on the backend; ledgers built in one run share their counters the way
// replicas would (Redis) or are independent processes (memory, where only one is used).
func ledgerBackends(t *testing.T, fn func(t *testing.T, newLedger func(LedgerOptions) *Ledger)) {
	t.Run("memory", func(t *testing.T) {
		fn(t, func(o LedgerOptions) *Ledger { return mustLedger(t, o) })
	})
	t.Run("redis", func(t *testing.T) {
		rdb, prefix := testRedis(t)
		fn(t, func(o LedgerOptions) *Ledger {
			o.Redis, o.RedisPrefix = rdb, prefix
			return mustLedger(t, o)
		})
	})
}

func mustLedger(t testing.TB, o LedgerOptions) *Ledger {
	t.Helper()
	if o.Spend == nil {
		o.Spend = storetest.Open(t, store.DialectSQLite)
	}
	l, err := NewLedger(o)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestLedgerConcurrencyNeverOverspends is the acceptance point: 200 concurrent requests
// against a budget that covers about 10 leave the recorded spend at or below it, with
// one process, and with three replicas sharing Redis.
func TestLedgerConcurrencyNeverOverspends(t *testing.T) {
	ledgerBackends(t, func(t *testing.T, newLedger func(LedgerOptions) *Ledger) {
		replicas := 1
		if t.Name() == "TestLedgerConcurrencyNeverOverspends/redis" {
			replicas = 3
		}
		db := storetest.Open(t, store.DialectSQLite)
		var ledgers []*Ledger
		for range replicas {
			ledgers = append(ledgers, newLedger(LedgerOptions{Spend: db}))
		}
		worst := MustUSD("0.10")
		budgets := []Budget{
			{Scope: ScopeKey, Subject: "key1", Limit: MustUSD("1.00"), Period: PeriodMonth},
			{Scope: ScopeProject, Subject: "acme", Limit: MustUSD("50"), Period: PeriodDay},
		}
		var recorded, admitted, refused atomic.Int64
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Go(func() {
				l := ledgers[i%len(ledgers)]
				res, err := l.Reserve(context.Background(), ReserveRequest{RequestID: fmt.Sprintf("req-%d", i),
					Attempt: 1, Budgets: budgets, Amount: worst})
				if err != nil {
					var ae *apierr.Error
					if !errors.As(err, &ae) || ae.Status != 429 || ae.Code != "budget_exceeded" || ae.Type != "insufficient_quota" {
						t.Errorf("refusal = %v, want 429 insufficient_quota/budget_exceeded", err)
					}
					refused.Add(1)
					return
				}
				admitted.Add(1)
				time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
				actual := worst/2 + Money(rand.Int64N(int64(worst/2))) // 50–100% of the worst case
				if _, err := l.Settle(context.Background(), res, actual); err != nil {
					t.Errorf("Settle: %v", err)
				}
				recorded.Add(int64(actual))
			})
		}
		wg.Wait()
		st, err := ledgers[0].State(context.Background(), budgets[0])
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d admitted, %d refused, spent %s of %s", admitted.Load(), refused.Load(), Money(recorded.Load()), budgets[0].Limit)
		switch {
		case Money(recorded.Load()) > budgets[0].Limit:
			t.Fatalf("recorded spend %s exceeds the budget %s", Money(recorded.Load()), budgets[0].Limit)
		case st.Spent != Money(recorded.Load()) || st.Reserved != 0:
			t.Fatalf("ledger state spent %s reserved %s, want spent %s and nothing held", st.Spent, st.Reserved, Money(recorded.Load()))
		case admitted.Load() < 10:
			t.Fatalf("only %d requests admitted; the budget holds at least 10 worst cases", admitted.Load())
		case refused.Load() == 0:
			t.Fatal("no request was refused")
		}
	})
}

func TestLedgerSettleIsIdempotent(t *testing.T) {
	ledgerBackends(t, func(t *testing.T, newLedger func(LedgerOptions) *Ledger) {
		ctx := context.Background()
		l := newLedger(LedgerOptions{})
		b := Budget{Scope: ScopeKey, Subject: "k", Limit: MustUSD("1"), Period: PeriodTotal}
		req := ReserveRequest{RequestID: "r1", Attempt: 2, Budgets: []Budget{b}, Amount: MustUSD("0.4")}
		res, err := l.Reserve(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		dup, err := l.Reserve(ctx, req) // A retried reserve holds once.
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := l.State(ctx, b); st.Reserved != MustUSD("0.4") {
			t.Fatalf("reserved %s after two reserves of one attempt, want $0.4", st.Reserved)
		}
		states, err := l.Settle(ctx, res, MustUSD("0.25"))
		if err != nil || len(states) != 1 || states[0].Spent != MustUSD("0.25") {
			t.Fatalf("Settle = %+v, %v", states, err)
		}
		for _, r := range []*Reservation{res, dup, res} {
			if again, err := l.Settle(ctx, r, MustUSD("0.25")); err != nil || again != nil {
				t.Fatalf("second Settle = %+v, %v; want a no-op", again, err)
			}
		}
		if err := l.Release(ctx, res); err != nil {
			t.Fatal(err)
		}
		if st, _ := l.State(ctx, b); st.Spent != MustUSD("0.25") || st.Reserved != 0 {
			t.Fatalf("state = spent %s reserved %s, want $0.25 and nothing held", st.Spent, st.Reserved)
		}
		// A released reservation gives everything back.
		other, _ := l.Reserve(ctx, ReserveRequest{RequestID: "r2", Attempt: 1, Budgets: []Budget{b}, Amount: MustUSD("0.75")})
		if err := l.Release(ctx, other); err != nil {
			t.Fatal(err)
		}
		if st, _ := l.State(ctx, b); st.Spent != MustUSD("0.25") || st.Reserved != 0 {
			t.Fatalf("after release: spent %s reserved %s", st.Spent, st.Reserved)
		}
	})
}

func TestLedgerZeroCostIsNeverRefused(t *testing.T) {
	ledgerBackends(t, func(t *testing.T, newLedger func(LedgerOptions) *Ledger) {
		ctx := context.Background()
		l := newLedger(LedgerOptions{})
		b := Budget{Scope: ScopeKey, Subject: "k", Limit: 0, Period: PeriodDay}
		if _, err := l.Reserve(ctx, ReserveRequest{RequestID: "paid", Budgets: []Budget{b}, Amount: 1}); err == nil {
			t.Fatal("a $0 budget admitted a priced request")
		}
		if _, err := l.Reserve(ctx, ReserveRequest{RequestID: "free", Budgets: []Budget{b}, Amount: 0}); err != nil {
			t.Fatalf("a free request was refused: %v", err)
		}
	})
}

// TestLedgerRollover checks calendar windows in a configured time zone with an
// injected clock, and that a fresh ledger (a restart, a new replica) starts from the
// spend persisted in the rollups.
func TestLedgerRollover(t *testing.T) {
	ledgerBackends(t, func(t *testing.T, newLedger func(LedgerOptions) *Ledger) {
		ctx := context.Background()
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		clock := newClock(time.Date(2026, 11, 30, 23, 59, 0, 0, tokyo))
		db := storetest.Open(t, store.DialectSQLite)
		l := newLedger(LedgerOptions{Spend: db, Location: tokyo, Now: clock.Now})
		day := Budget{Scope: ScopeKey, Subject: "k", Limit: MustUSD("1"), Period: PeriodDay}
		month := Budget{Scope: ScopeProject, Subject: "p", Limit: MustUSD("3"), Period: PeriodMonth}
		both := []Budget{day, month}
		spend := func(id string, cost Money) error {
			res, err := l.Reserve(ctx, ReserveRequest{RequestID: id, Budgets: both, Amount: cost})
			if err != nil {
				return err
			}
			_, err = l.Settle(ctx, res, cost)
			return err
		}
		if err := spend("a", MustUSD("1")); err != nil {
			t.Fatal(err)
		}
		if err := spend("b", 1); err == nil {
			t.Fatal("the spent day budget admitted another request")
		}
		clock.Set(time.Date(2026, 12, 1, 0, 0, 1, 0, tokyo)) // Midnight in Tokyo: new day, new month.
		if err := spend("c", MustUSD("1")); err != nil {
			t.Fatalf("the new day refused: %v", err)
		}
		st, _ := l.State(ctx, month)
		if st.Spent != MustUSD("1") || !st.Start.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, tokyo)) {
			t.Fatalf("month state = %+v, want $1 since Dec 1 in Tokyo", st)
		}

		// What was spent is in the database (the spend writer's rollups); a restarted
		// ledger reads it back instead of starting from zero.
		row := store.SpendRow{ID: "c", Time: clock.Now(), RecordType: store.SpendRequest, RequestID: "c",
			KeyID: "k", Project: "p", CostNano: int64(MustUSD("1")), UsageSource: "provider", Status: 200}
		if _, err := db.InsertSpend(ctx, []store.SpendRow{row}, tokyo); err != nil {
			t.Fatal(err)
		}
		fresh := newLedger(LedgerOptions{Spend: db, Location: tokyo, Now: clock.Now})
		if _, err := fresh.Reserve(ctx, ReserveRequest{RequestID: "d", Budgets: both, Amount: 1}); err == nil {
			t.Fatal("a restarted ledger forgot the day's spend")
		}
	})
}

func TestLedgerReclaimsExpiredReservations(t *testing.T) {
	ledgerBackends(t, func(t *testing.T, newLedger func(LedgerOptions) *Ledger) {
		ctx := context.Background()
		clock := newClock(time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC))
		l := newLedger(LedgerOptions{Now: clock.Now, ReservationTTL: time.Minute})
		b := []Budget{{Scope: ScopeKey, Subject: "k", Limit: MustUSD("1"), Period: PeriodWeek}}
		lost, err := l.Reserve(ctx, ReserveRequest{RequestID: "lost", Budgets: b, Amount: MustUSD("1")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Reserve(ctx, ReserveRequest{RequestID: "x", Budgets: b, Amount: 1}); err == nil {
			t.Fatal("a held budget admitted more")
		}
		clock.Add(2 * time.Minute) // The holder crashed; its hold expires.
		res, err := l.Reserve(ctx, ReserveRequest{RequestID: "y", Budgets: b, Amount: MustUSD("1")})
		if err != nil {
			t.Fatalf("an expired hold still blocks: %v", err)
		}
		l.Settle(ctx, res, MustUSD("0.5"))
		l.Settle(ctx, lost, MustUSD("0.2")) // A late settle still records the real cost.
		if st, _ := l.State(ctx, b[0]); st.Spent != MustUSD("0.7") || st.Reserved != 0 {
			t.Fatalf("state = spent %s reserved %s, want $0.7 and nothing held", st.Spent, st.Reserved)
		}
	})
}

// TestLedgerFailsClosedWithoutSpend checks that a budget whose spend cannot be read is
// not enforced blindly: the request is refused with a retryable 503.
func TestLedgerFailsClosedWithoutSpend(t *testing.T) {
	ledgerBackends(t, func(t *testing.T, newLedger func(LedgerOptions) *Ledger) {
		db, err := store.Open(context.Background(), storetest.URL(t, store.DialectSQLite))
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		l := newLedger(LedgerOptions{Spend: db})
		b := []Budget{{Scope: ScopeKey, Subject: "k", Limit: MustUSD("1"), Period: PeriodDay}}
		_, err = l.Reserve(context.Background(), ReserveRequest{RequestID: "r", Budgets: b, Amount: 1})
		var ae *apierr.Error
		if !errors.As(err, &ae) || ae.Status != 503 || ae.Code != "budget_unavailable" {
			t.Fatalf("Reserve = %v, want 503 budget_unavailable", err)
		}
		if _, err := l.Reserve(context.Background(), ReserveRequest{RequestID: "nobudget", Amount: 1}); err != nil {
			t.Fatalf("a key without budgets was refused: %v", err)
		}
	})
}

// TestRedisLedgerSeedsFromRollups checks that empty Redis counters (a new Redis, or
// counters expired after a quiet week) start from the spend in the database.
func TestRedisLedgerSeedsFromRollups(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := testRedis(t)
	db := storetest.Open(t, store.DialectSQLite)
	now := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	row := store.SpendRow{ID: "old", Time: now.Add(-48 * time.Hour), RecordType: store.SpendRequest, RequestID: "old",
		KeyID: "child", ParentKeyID: "parent", CostNano: int64(MustUSD("0.9")), UsageSource: "provider", Status: 200}
	if _, err := db.InsertSpend(ctx, []store.SpendRow{row}, time.UTC); err != nil {
		t.Fatal(err)
	}
	l := mustLedger(t, LedgerOptions{Spend: db, Redis: rdb, RedisPrefix: prefix, Now: func() time.Time { return now }})
	parent := Budget{Scope: ScopeKey, Subject: "parent", Limit: MustUSD("1"), Period: PeriodMonth}
	if _, err := l.Reserve(ctx, ReserveRequest{RequestID: "r", Budgets: []Budget{parent}, Amount: MustUSD("0.2")}); err == nil {
		t.Fatal("the parent budget ignored its child's persisted spend")
	}
	st, err := l.State(ctx, parent)
	if err != nil || st.Spent != MustUSD("0.9") {
		t.Fatalf("State = %+v, %v; want $0.9 seeded", st, err)
	}
}

func TestLedgerView(t *testing.T) {
	ctx := context.Background()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, berlin)
	l := mustLedger(t, LedgerOptions{Location: berlin, Now: func() time.Time { return now }})
	b := Budget{Scope: ScopeKey, Subject: "k", Limit: MustUSD("10"), Period: PeriodMonth}
	res, _ := l.Reserve(ctx, ReserveRequest{RequestID: "a", Budgets: []Budget{b}, Amount: MustUSD("1")})
	l.Settle(ctx, res, MustUSD("0.4"))
	l.Reserve(ctx, ReserveRequest{RequestID: "b", Budgets: []Budget{b}, Amount: MustUSD("2")}) // In flight.
	v, err := l.View(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if v.SpentUSD != MustUSD("0.4") || v.RemainingUSD != MustUSD("7.6") || v.ResetsAt == nil ||
		!v.ResetsAt.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, berlin)) {
		t.Fatalf("view = %+v", v)
	}
	total, _ := l.View(ctx, Budget{Scope: ScopeKey, Subject: "k", Limit: MustUSD("1"), Period: PeriodTotal})
	if total.ResetsAt != nil {
		t.Fatalf("a total budget resets at %v", total.ResetsAt)
	}
}
