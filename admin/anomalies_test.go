package admin_test

import (
	"context"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

func TestListAnomalies(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
		for i, sev := range []string{"low", "high", "medium", "high", "low"} {
			at := t0.Add(time.Duration(i) * time.Hour)
			if err := db.InsertAnomaly(ctx, store.Anomaly{ID: "anom_" + string(rune('a'+i)), Time: at, WindowStart: at,
				KeyID: "k", Kind: "volume_spike", Severity: sev, Details: `{"requests":412}`}); err != nil {
				t.Fatal(err)
			}
		}
		p, err := admin.ListAnomalies(ctx, db, admin.AnomalyQuery{Severity: "medium", Limit: "2"})
		if err != nil || len(p.Data) != 2 || p.Data[0].ID != "anom_d" || p.Data[1].ID != "anom_c" || p.NextCursor == "" {
			t.Fatalf("first page of medium and up: %+v %v", p, err)
		}
		if p.Data[0].Details["requests"] != 412.0 {
			t.Errorf("details: %v", p.Data[0].Details)
		}
		p, err = admin.ListAnomalies(ctx, db, admin.AnomalyQuery{Severity: "medium", Limit: "2", Cursor: p.NextCursor})
		if err != nil || len(p.Data) != 1 || p.Data[0].ID != "anom_b" || p.NextCursor != "" {
			t.Fatalf("second page: %+v %v", p, err)
		}
		p, _ = admin.ListAnomalies(ctx, db, admin.AnomalyQuery{From: "2026-11-02T11:00:00Z", To: "2026-11-02T13:00:00Z"})
		if len(p.Data) != 2 {
			t.Errorf("time range: %+v", p.Data)
		}
		if p, _ = admin.ListAnomalies(ctx, db, admin.AnomalyQuery{KeyID: "other"}); len(p.Data) != 0 || p.Data == nil {
			t.Errorf("another key's: %+v", p)
		}
		for _, q := range []admin.AnomalyQuery{{Severity: "critical"}, {Limit: "0"}, {From: "yesterday"}, {Cursor: "!!"}} {
			_, err := admin.ListAnomalies(ctx, db, q)
			if e := apierr.From(err); e == nil || e.Status != 400 {
				t.Errorf("%+v: %v, want a 400", q, err)
			}
		}
	})
}
