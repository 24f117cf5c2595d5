package app_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/store"
)

// TestEveryAnsweredRequestHasASpendRow sends JSON, streamed and failed requests, stops
// the gateway as SIGTERM does, and counts the spend rows.
func TestEveryAnsweredRequestHasASpendRow(t *testing.T) {
	g := startGateway(t, "sqlite", nil)
	bodies := []string{
		`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"gpt-4o-mini","messages":[],"fakellm":{"error_rate":1,"error_status":400}}`,
	}
	const rounds = 20
	for range rounds {
		for _, b := range bodies {
			resp := g.post(t, "/v1/chat/completions", b, nil)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	g.Stop()
	if err := <-g.Done; err != nil {
		t.Fatal(err)
	}
	if err := g.App.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), g.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.ListSpendLog(context.Background(), store.SpendLogQuery{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour), Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != rounds*len(bodies) {
		t.Fatalf("%d spend rows for %d answered requests", len(rows), rounds*len(bodies))
	}
	var streamed, failed int
	for _, r := range rows {
		switch {
		case r.Status >= 400:
			failed++
		case r.Stream:
			streamed++
			if r.UsageSource != "provider" || r.CompletionTokens == 0 || r.CostNano == 0 {
				t.Fatalf("streamed row not billed from provider usage: %+v", r)
			}
		}
	}
	if streamed != rounds || failed != rounds {
		t.Fatalf("streamed %d, failed %d", streamed, failed)
	}
}

// TestReusedClientRequestIDIsStillBilled sends requests that all carry the same
// x-request-id: each must get its own id and its own spend row, or a client could avoid
// billing by reusing an id.
func TestReusedClientRequestIDIsStillBilled(t *testing.T) {
	g := startGateway(t, "sqlite", nil)
	ids := map[string]bool{}
	const n = 6
	for range n {
		resp := g.post(t, "/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`,
			map[string]string{"x-request-id": "same-id-every-time"})
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		ids[resp.Header.Get("x-request-id")] = true
	}
	if len(ids) != n || ids["same-id-every-time"] {
		t.Fatalf("request ids: %v", ids)
	}
	g.Stop()
	<-g.Done
	g.App.Close()
	db, err := store.Open(context.Background(), g.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.ListSpendLog(context.Background(), store.SpendLogQuery{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)})
	if err != nil || len(rows) != n {
		t.Fatalf("%d spend rows for %d requests (%v)", len(rows), n, err)
	}
}
