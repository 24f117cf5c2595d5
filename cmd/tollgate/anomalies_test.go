package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/store"
)

// TestCLIAnomalies lists findings stored by the detectors through the admin API.
func TestCLIAnomalies(t *testing.T) {
	dbURL := startCLIGateway(t, "sqlite")
	db, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Date(2026, 11, 4, 14, 1, 0, 0, time.UTC)
	for _, a := range []store.Anomaly{
		{ID: "anom_1", KeyID: "AbCdEfGhIjKl", Kind: "volume_spike", Severity: "high", Action: "suspended",
			Summary: "requests 412 in 1m0s against a baseline of 38 (10.8×)"},
		{ID: "anom_2", KeyID: "AbCdEfGhIjKl", Kind: "new_model", Severity: "low", Summary: "first request for model o3"},
	} {
		a.Time, a.WindowStart = at, at.Add(-time.Minute)
		if err := db.InsertAnomaly(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	out := mustRun(t, anomaliesCmd(), "", "--severity", "medium")
	if !strings.Contains(out, "volume_spike") || !strings.Contains(out, "suspended") || strings.Contains(out, "new_model") {
		t.Fatalf("anomalies --severity medium:\n%s", out)
	}
	var page admin.AnomalyPage
	if err := json.Unmarshal([]byte(mustRun(t, anomaliesCmd(), "", "--key", "AbCdEfGhIjKl", "--json")), &page); err != nil ||
		len(page.Data) != 2 {
		t.Fatalf("anomalies --json: %+v %v", page, err)
	}
	if _, err := run(t, anomaliesCmd(), "", "--severity", "critical"); err == nil || !strings.Contains(err.Error(), "severity") {
		t.Fatalf("a bad severity: %v", err)
	}
}
