package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

func TestAnomalies(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
		for i, a := range []store.Anomaly{
			{ID: "anom_a", KeyID: "k1", Kind: "volume_spike", Severity: "high", Score: 41.5, Action: "suspended"},
			{ID: "anom_b", KeyID: "k2", Kind: "new_network", Severity: "medium"},
			{ID: "anom_c", KeyID: "k1", Kind: "new_model", Severity: "low", Details: `{"model":"o3"}`},
			{ID: "anom_d", KeyID: "k1", Kind: "error_burst", Severity: "medium"},
		} {
			a.Time = t0.Add(time.Duration(i) * time.Minute)
			a.WindowStart, a.Project, a.Summary = a.Time.Add(-time.Minute), "web", "s"
			if err := db.InsertAnomaly(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		// The same finding stored twice is one row, unchanged.
		if err := db.InsertAnomaly(ctx, store.Anomaly{ID: "anom_a", Time: t0, WindowStart: t0, KeyID: "k9", Kind: "x", Severity: "low"}); err != nil {
			t.Fatal(err)
		}
		all, err := db.ListAnomalies(ctx, store.AnomalyFilter{})
		if err != nil || len(all) != 4 || all[0].ID != "anom_d" || all[3].ID != "anom_a" {
			t.Fatalf("all: %v %v", all, err)
		}
		if a := all[3]; a.KeyID != "k1" || a.Score != 41.5 || a.Action != "suspended" || !a.Time.Equal(t0) ||
			!a.WindowStart.Equal(t0.Add(-time.Minute)) || a.Details != "{}" {
			t.Errorf("round trip: %+v", a)
		}
		got, _ := db.ListAnomalies(ctx, store.AnomalyFilter{KeyID: "k1", Severities: []string{"medium", "high"}})
		if len(got) != 2 || got[0].ID != "anom_d" || got[1].ID != "anom_a" {
			t.Errorf("k1 medium and up: %v", got)
		}
		got, _ = db.ListAnomalies(ctx, store.AnomalyFilter{From: t0.Add(time.Minute), To: t0.Add(3 * time.Minute)})
		if len(got) != 2 || got[0].ID != "anom_c" || got[1].ID != "anom_b" {
			t.Errorf("time range: %v", got)
		}
		page, _ := db.ListAnomalies(ctx, store.AnomalyFilter{Limit: 2})
		rest, _ := db.ListAnomalies(ctx, store.AnomalyFilter{BeforeTime: page[1].Time, BeforeID: page[1].ID})
		if len(page) != 2 || len(rest) != 2 || rest[0].ID != "anom_b" {
			t.Errorf("paging: %v then %v", page, rest)
		}
	})
}
