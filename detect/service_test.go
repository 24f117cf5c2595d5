package detect

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/export"
	"github.com/tollgate-llm/tollgate/schema"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// policy is a key policy over a fixed set of opted-in keys that records suspensions.
type policy struct {
	mu        sync.Mutex
	optedIn   map[string]bool
	suspended []string
}

func (p *policy) AutoSuspend(_ context.Context, id string) (bool, error) { return p.optedIn[id], nil }

func (p *policy) Suspend(_ context.Context, id, _ string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.suspended = append(p.suspended, id)
	return nil
}

// receiver is a webhook endpoint that checks signatures.
type receiver struct {
	secret []byte
	got    chan Payload
	t      *testing.T
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := billing.VerifySignature(rc.secret, r.Header.Get(billing.HeaderSignature), body, time.Now(), time.Minute); err != nil ||
		r.Header.Get(billing.HeaderEvent) != EventAnomaly {
		rc.t.Errorf("bad delivery: %v, event %q", err, r.Header.Get(billing.HeaderEvent))
	}
	var p Payload
	json.Unmarshal(body, &p)
	rc.got <- p
}

func TestServiceSuspendsStoresAuditsAndNotifies(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		chainKey := make([]byte, audit.KeySize)
		rand.Read(chainKey)
		log, err := audit.New(db, chainKey)
		if err != nil {
			t.Fatal(err)
		}
		rc := &receiver{secret: []byte("whsec"), got: make(chan Payload, 4), t: t}
		srv := httptest.NewServer(rc)
		defer srv.Close()
		hook, _ := export.NewWebhook(export.WebhookOptions{URL: srv.URL, Event: EventAnomaly,
			ContentType: "application/json", Secret: secretOf("whsec")})
		pol := &policy{optedIn: map[string]bool{"careful": true}}
		svc, err := NewService(ServiceOptions{Store: db, Audit: log, Keys: pol, Notify: hook})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { svc.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()

		for _, key := range []string{"careful", "relaxed"} { // both spike; one opted in
			feed(svc, key, feed(svc, key, week0, 40, 20), 1, 400)
		}
		for range 2 {
			if p := <-rc.got; p.Kind != KindVolumeSpike || p.Severity != SeverityHigh {
				t.Errorf("webhook: %+v", p)
			}
		}
		rows, _ := db.ListAnomalies(context.Background(), store.AnomalyFilter{})
		actions := map[string]string{}
		for _, r := range rows {
			actions[r.KeyID] = r.Action
		}
		if len(rows) != 2 || actions["careful"] != ActionSuspended || actions["relaxed"] != "" {
			t.Errorf("stored: %+v", rows)
		}
		if len(pol.suspended) != 1 || pol.suspended[0] != "careful" {
			t.Errorf("suspended %v, want only the opted-in key", pol.suspended)
		}
		page, _ := log.List(context.Background(), audit.Filter{Action: "anomaly.detected"})
		if len(page.Data) != 2 || page.Data[0].ActorName != "detector" {
			t.Errorf("audit: %+v", page.Data)
		}
	})
}

// feed observes n requests a minute for minutes minutes from st, then one request in
// the next minute, which closes the last window. It returns the next minute.
func feed(s *Service, key string, st time.Time, minutes, n int) time.Time {
	for range minutes {
		for i := range n {
			s.Observe(Observation{Time: st.Add(time.Duration(i) * time.Millisecond), KeyID: key, Model: "m",
				SourceIP: netip.MustParseAddr("10.0.0.1"), Tokens: 100, CostNano: 1000})
		}
		st = st.Add(time.Minute)
	}
	s.Observe(Observation{Time: st, KeyID: key, Model: "m", SourceIP: netip.MustParseAddr("10.0.0.1")})
	return st
}

func secretOf(s string) schema.Secret { return schema.NewSecret(s) }
