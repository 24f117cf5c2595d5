package audit_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

func newKey() []byte {
	k := make([]byte, audit.KeySize)
	rand.Read(k)
	return k
}

func newLog(t *testing.T, db *store.DB, key []byte) *audit.Log {
	t.Helper()
	l, err := audit.New(db, key)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func event(i int) audit.Event {
	return audit.Event{Actor: audit.Actor{ID: "admin:Tok000000001", Name: "root", SourceIP: "10.0.0.1",
		RequestID: fmt.Sprintf("req_%d", i)}, Action: "key.create", Target: fmt.Sprintf("key:K%011d", i),
		Details: map[string]any{"name": "svc", "n": i}}
}

// record appends n events and fails the test on any error.
func record(t *testing.T, l *audit.Log, n int) {
	t.Helper()
	for i := range n {
		if err := l.Record(context.Background(), event(i)); err != nil {
			t.Fatal(err)
		}
	}
}

func exec(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.SQL().ExecContext(context.Background(), db.Rebind(q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestVerifyNamesTheFirstBrokenRow(t *testing.T) {
	tests := []struct {
		name    string
		tamper  []string
		seq     int64
		problem string
	}{
		{"intact", nil, 0, ""},
		{"edited target", []string{`UPDATE audit_log SET target = 'key:Other' WHERE seq = 4`}, 4, audit.ProblemEdited},
		{"edited details", []string{`UPDATE audit_log SET details = '{"name":"evil"}' WHERE seq = 2`}, 2, audit.ProblemEdited},
		{"edited time", []string{`UPDATE audit_log SET at = at + 1 WHERE seq = 6`}, 6, audit.ProblemEdited},
		{"deleted middle", []string{`DELETE FROM audit_log WHERE seq = 3`}, 3, audit.ProblemMissing},
		{"deleted first", []string{`DELETE FROM audit_log WHERE seq = 1`}, 1, audit.ProblemMissing},
		{"deleted and renumbered", []string{`DELETE FROM audit_log WHERE seq = 3`,
			`UPDATE audit_log SET seq = seq - 1 WHERE seq > 3`}, 3, audit.ProblemEdited},
		{"reordered", []string{`UPDATE audit_log SET seq = 100 WHERE seq = 5`,
			`UPDATE audit_log SET seq = 5 WHERE seq = 4`, `UPDATE audit_log SET seq = 4 WHERE seq = 100`}, 4, audit.ProblemEdited},
		{"prev_hash relinked", []string{`UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log WHERE seq = 1) WHERE seq = 3`}, 3, audit.ProblemEdited},
		{"inserted forged row", []string{`INSERT INTO audit_log (seq, at, action, prev_hash, hash)
			SELECT 9, at + 1, 'key.create', hash, hash FROM audit_log WHERE seq = 8`}, 9, audit.ProblemEdited},
	}
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				exec(t, db, `DELETE FROM audit_log`)
				l := newLog(t, db, newKey())
				record(t, l, 8)
				for _, q := range tt.tamper {
					exec(t, db, q)
				}
				res, err := l.Verify(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if tt.seq == 0 {
					if !res.OK || res.Rows != 8 || res.LastSeq != 8 || res.Broken != nil {
						t.Fatalf("intact chain reported %+v", res)
					}
					return
				}
				if res.OK || res.Broken == nil || res.Broken.Seq != tt.seq || res.Broken.Problem != tt.problem {
					t.Fatalf("got %+v (broken %+v), want seq %d %s", res, res.Broken, tt.seq, tt.problem)
				}
				if !strings.Contains(res.Broken.Message, fmt.Sprint(tt.seq)) {
					t.Errorf("message %q does not name row %d", res.Broken.Message, tt.seq)
				}
			})
		}
	})
}

func TestChainNeedsTheKey(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		record(t, newLog(t, db, newKey()), 3)
		// A chain rebuilt by someone without the key (here: another key) does not verify.
		res, err := newLog(t, db, newKey()).Verify(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if res.OK || res.Broken.Seq != 1 {
			t.Fatalf("a different key verified the chain: %+v", res)
		}
	})
}

// TestConcurrentAppendsFromReplicas appends from goroutines through two stores on the
// same database, as two replicas would, and checks that they form one chain.
func TestConcurrentAppendsFromReplicas(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			url := storetest.URL(t, engine)
			key := newKey()
			var logs []*audit.Log
			for range 2 {
				db, err := store.Open(context.Background(), url)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				logs = append(logs, newLog(t, db, key))
			}
			const per = 25
			var wg sync.WaitGroup
			errs := make(chan error, 4*per)
			for g := range 4 {
				wg.Go(func() {
					for i := range per {
						if err := logs[g%2].Record(context.Background(), event(g*per+i)); err != nil {
							errs <- err
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			res, err := logs[0].Verify(context.Background())
			if err != nil || !res.OK || res.Rows != 4*per {
				t.Fatalf("verify: %+v %v", res, err)
			}
		})
	}
}

func TestListFiltersAndPages(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		l := newLog(t, db, newKey())
		ctx := context.Background()
		for i := range 10 {
			e := event(i)
			e.Time = base.Add(time.Duration(i) * time.Hour)
			if i%2 == 1 {
				e.Action, e.Actor.ID = "provider_key.add", "admin:Other0000001"
			}
			if err := l.Record(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		seqs := func(p audit.Page) (s []int64) {
			for _, e := range p.Data {
				s = append(s, e.Seq)
			}
			return s
		}
		tests := []struct {
			name string
			f    audit.Filter
			want string
		}{
			{"all newest first", audit.Filter{}, "[10 9 8 7 6 5 4 3 2 1]"},
			{"action", audit.Filter{Action: "provider_key.add"}, "[10 8 6 4 2]"},
			{"action prefix", audit.Filter{Action: "key.*"}, "[9 7 5 3 1]"},
			{"actor", audit.Filter{Actor: "admin:Other0000001"}, "[10 8 6 4 2]"},
			{"actor name", audit.Filter{Actor: "root"}, "[10 9 8 7 6 5 4 3 2 1]"},
			{"time window", audit.Filter{From: base.Add(2 * time.Hour), To: base.Add(5 * time.Hour)}, "[5 4 3]"},
		}
		for _, tt := range tests {
			p, err := l.List(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(seqs(p)); got != tt.want {
				t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
			}
		}
		var all []int64
		f := audit.Filter{Limit: 4}
		for {
			p, err := l.List(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, seqs(p)...)
			if p.NextCursor == "" {
				break
			}
			f.Cursor = p.NextCursor
		}
		if fmt.Sprint(all) != "[10 9 8 7 6 5 4 3 2 1]" {
			t.Errorf("paged: %v", all)
		}
		if _, err := l.List(ctx, audit.Filter{Cursor: "seq_x"}); err != audit.ErrBadCursor {
			t.Errorf("bad cursor: %v", err)
		}
		p, _ := l.List(ctx, audit.Filter{Limit: 1})
		if e := p.Data[0]; e.Details["name"] != "svc" || e.RequestID != "req_9" || e.SourceIP != "10.0.0.1" {
			t.Errorf("entry fields lost: %+v", e)
		}
	})
}

func TestRecordFailsWhenTheRowCannotBeWritten(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		l := newLog(t, db, newKey())
		exec(t, db, `DROP TABLE audit_log`)
		if err := l.Record(context.Background(), event(1)); err == nil {
			t.Fatal("Record succeeded without a table to write to")
		}
	})
	var nilLog *audit.Log
	if err := nilLog.Record(context.Background(), event(1)); err == nil {
		t.Fatal("a nil log recorded")
	}
	if _, err := audit.New(nil, []byte("short")); err == nil {
		t.Fatal("New accepted a short key")
	}
}
