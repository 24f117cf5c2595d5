package billing

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// receiver is a webhook endpoint that keeps what it verified.
type receiver struct {
	mu       sync.Mutex
	payloads []AlertPayload
	bad      int
}

func newReceiver(t *testing.T, secret []byte, now func() time.Time) (*receiver, *httptest.Server) {
	rc := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if err := VerifySignature(secret, r.Header.Get(HeaderSignature), body, now(), 5*time.Minute); err != nil ||
			r.Header.Get(HeaderEvent) != EventBudgetThreshold {
			rc.bad++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p AlertPayload
		if err := json.Unmarshal(body, &p); err != nil || r.Header.Get(HeaderDelivery) != p.ID {
			rc.bad++
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		rc.payloads = append(rc.payloads, p)
	}))
	t.Cleanup(srv.Close)
	return rc, srv
}

func (rc *receiver) thresholds() []int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []int
	for _, p := range rc.payloads {
		out = append(out, p.ThresholdPercent)
	}
	slices.Sort(out)
	return out
}

// TestAlertsOncePerThresholdPerPeriod runs two replicas' alerters on one database: each
// threshold of a period is sent once, signed so that the receiver verifies it, logged
// and audited; a new period alerts again.
func TestAlertsOncePerThresholdPerPeriod(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		secret := []byte("whsec-test-0123456789")
		clock := newClock(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
		rc, srv := newReceiver(t, secret, clock.Now)
		auditLog, err := audit.New(db, make([]byte, audit.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		var replicas []*Alerter
		for range 2 {
			a, err := NewAlerter(AlertOptions{URLs: []string{srv.URL}, Secret: secret, Claims: db, Audit: auditLog,
				Now: clock.Now, RetryBase: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			go a.Run(ctx)
			replicas = append(replicas, a)
		}
		b := Budget{Scope: ScopeKey, Subject: "key1", Limit: MustUSD("10"), Period: PeriodMonth}
		start, end := b.Period.Window(clock.Now(), time.UTC)
		observe := func(spent string) {
			for _, a := range replicas {
				a.Observe([]BudgetState{{Budget: b, Start: start, End: end, Spent: MustUSD(spent)}})
			}
		}
		observe("4.99") // 49.9%: nothing.
		observe("5")    // 50%.
		observe("7")    // still 50%: nothing new.
		observe("8.5")  // 80%.
		observe("12")   // 100% (over).
		observe("12")   // again: nothing new.
		waitFor(t, "three alerts", func() bool { return len(rc.thresholds()) >= 3 })
		time.Sleep(100 * time.Millisecond) // Let a duplicate, if any, arrive.
		if got := rc.thresholds(); !slices.Equal(got, []int{50, 80, 100}) || rc.bad != 0 {
			t.Fatalf("alerts = %v (%d bad), want [50 80 100] once each", got, rc.bad)
		}
		next := start.AddDate(0, 1, 0)
		for _, a := range replicas {
			a.Observe([]BudgetState{{Budget: b, Start: next, End: next.AddDate(0, 1, 0), Spent: MustUSD("6")}})
		}
		waitFor(t, "the next period's alert", func() bool { return len(rc.thresholds()) == 4 })
		rows, err := db.ListAudit(ctx, store.AuditFilter{Action: "budget.threshold"})
		if err != nil || len(rows) != 4 || rows[0].Target != "key:key1" {
			t.Fatalf("audit rows = %+v, %v; want 4 for key:key1", rows, err)
		}
		p := rc.payloads[0]
		if p.Subject != "key1" || p.LimitUSD != MustUSD("10") || !p.PeriodStart.Equal(start) {
			t.Errorf("payload = %+v", p)
		}
	})
}

func TestVerifySignature(t *testing.T) {
	secret := []byte("s3cret")
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"id":"x"}`)
	sig := Sign(secret, now, body)
	if err := VerifySignature(secret, sig, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("a good signature failed: %v", err)
	}
	for name, tc := range map[string]struct {
		secret, body []byte
		header       string
		at           time.Time
	}{
		"tampered body": {secret, []byte(`{"id":"y"}`), sig, now},
		"wrong secret":  {[]byte("other"), body, sig, now},
		"replayed late": {secret, body, sig, now.Add(time.Hour)},
		"garbage":       {secret, body, "t=x,v1=zz", now},
		"empty":         {secret, body, "", now},
	} {
		if err := VerifySignature(tc.secret, tc.header, tc.body, tc.at, 5*time.Minute); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: err = %v, want ErrBadSignature", name, err)
		}
	}
}

func TestNewAlerterRefusesUnsignedWebhooks(t *testing.T) {
	db := storetest.Open(t, store.DialectSQLite)
	if _, err := NewAlerter(AlertOptions{URLs: []string{"http://127.0.0.1:1"}, Claims: db}); err == nil {
		t.Fatal("webhooks without a signing secret were accepted")
	}
}

func TestReached(t *testing.T) {
	for _, tc := range []struct {
		spent, limit Money
		pct          int
		want         bool
	}{
		{50, 100, 50, true}, {49, 100, 50, false}, {1, 3, 33, true}, {1, 3, 34, false},
		{1<<62 + 1, 1 << 62, 100, true}, {1 << 62, 1<<62 + 1, 100, false}, {1, 0, 50, true}, {0, 0, 50, false},
	} {
		if got := reached(tc.spent, tc.limit, tc.pct); got != tc.want {
			t.Errorf("reached(%d, %d, %d%%) = %v", tc.spent, tc.limit, tc.pct, got)
		}
	}
}
