package router_test

import (
	"context"
	"sync"
	"testing"

	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/router"
)

// recorder is an attempt observer that records what it heard.
type recorder struct {
	mu      sync.Mutex
	started []router.AttemptInfo
	ended   []router.AttemptResult
}

func (r *recorder) AttemptStart(ctx context.Context, a router.AttemptInfo) (context.Context, func(router.AttemptResult)) {
	r.mu.Lock()
	r.started = append(r.started, a)
	r.mu.Unlock()
	return ctx, func(res router.AttemptResult) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.ended = append(r.ended, res)
	}
}

func TestObserverHearsEveryAttemptOnce(t *testing.T) {
	_, badURL := fake(t, fakellm.Options{ErrorRate: 1})
	_, goodURL := fake(t, fakellm.Options{})
	primary := route("primary", 0, deployment(t, "failing", badURL, nil, upstreamKey))
	primary.Fallbacks = []string{"backup"}
	r := router.New([]*router.Route{primary, route("backup", 0, deployment(t, "good", goodURL, nil, upstreamKey))},
		router.Options{})
	rec := &recorder{}
	r.SetObserver(rec)

	if _, _, err := complete(t, r, "primary"); err != nil {
		t.Fatal(err)
	}
	st, _, err := r.Stream(context.Background(), chat("backup", true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := drain(st); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	started, ended := rec.started, rec.ended
	rec.mu.Unlock()
	if len(started) != 3 || len(rec.ended) != 3 {
		t.Fatalf("started %d, ended %d attempts; want 3 and 3", len(started), len(ended))
	}
	first := started[0]
	if first.Deployment != "failing" || first.ProviderType != "openai" || first.Model != "gpt-4o-mini" ||
		first.CredentialID != "failing#0" || first.Attempt != 1 || started[1].Attempt != 2 {
		t.Errorf("attempts: %+v", started)
	}
	if e := ended[0]; e.Outcome != router.OutcomeFailure || e.Err == nil || e.Err.Status != 500 {
		t.Errorf("first attempt ended %+v", e)
	}
	for _, e := range ended[1:] {
		if e.Outcome != router.OutcomeSuccess || e.Err != nil {
			t.Errorf("attempt ended %+v, want success", e)
		}
	}
	r.SetObserver(nil)
	complete(t, r, "backup")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.started) != 3 {
		t.Error("a removed observer still heard attempts")
	}
}
