package app_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/internal/tcpproxy"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// billLoad is requests sent in a loop by worker goroutines, and every answer they got.
type billLoad struct {
	mu      sync.Mutex
	answers []billAnswer
	lost    int
	stop    chan struct{}
	wg      sync.WaitGroup
}

// billLoadBodies alternate between a plain request and a stream, both slow enough that
// many are in flight at any time.
var billLoadBodies = []string{
	`{"model":"priced","max_tokens":50,"messages":[{"role":"user","content":"hi"}],"fakellm":{"latency_ms":150}}`,
	`{"model":"priced","stream":true,"max_tokens":50,"messages":[{"role":"user","content":"hi"}],` +
		`"fakellm":{"chunks":10,"chunk_delay_ms":20}}`,
}

// startBillLoad starts workers sending billLoadBodies to the gateway at base with key;
// unless keepGoing, a worker stops at the first request that gets no answer.
func startBillLoad(base, key string, workers int, keepGoing bool) *billLoad {
	l := &billLoad{stop: make(chan struct{})}
	for w := range workers {
		l.wg.Go(func() {
			for i := w; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				a, err := billPost(base, key, billLoadBodies[i%len(billLoadBodies)])
				l.mu.Lock()
				if err != nil {
					l.lost++
				} else {
					l.answers = append(l.answers, a)
				}
				l.mu.Unlock()
				if err != nil && !keepGoing {
					return
				}
			}
		})
	}
	return l
}

// count returns how many answers have arrived so far.
func (l *billLoad) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.answers)
}

// finish stops the load and returns its answers.
func (l *billLoad) finish() []billAnswer {
	close(l.stop)
	l.wg.Wait()
	return l.answers
}

// billProcess runs `tollgate serve` on addr and waits until it is ready.
func billProcess(t *testing.T, bin, config, addr string, env []string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--config", config)
	cmd.Env = append(os.Environ(), append(env, "TOLLGATE_LISTEN="+addr)...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	ready := func() bool {
		resp, err := billClient.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}
	for deadline := time.Now().Add(60 * time.Second); !ready(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("tollgate on %s did not get ready:\n%s", addr, logs.String())
		}
	}
	return cmd
}

// billSigterm stops the process as an orchestrator does and waits for it to exit cleanly.
func billSigterm(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("tollgate exited with %v after SIGTERM: %s", err, cmd.Stdout)
	}
}

// TestSpendSurvivesSIGTERMUnderLoad sends SIGTERM to a real tollgate process while 48
// clients keep requests in flight, restarts it on the same database and spill
// directory, and checks that every answered request has exactly one spend row.
func TestSpendSurvivesSIGTERMUnderLoad(t *testing.T) {
	dbURL := storetest.URL(t, store.DialectPostgres)
	bin := tollgateBinary(t)
	_, base := billFake(t, fakellm.Options{})
	dir := t.TempDir()
	config := filepath.Join(dir, "tollgate.yaml")
	yaml := fmt.Sprintf(`shutdown_timeout: 30s
billing: {spill_dir: %q}
providers:
  - {name: fake, type: openai, base_url: %q, keys: [{secret: env:FAKE_OPENAI_KEY}]}
models:
  - name: priced
    pricing: {input_per_mtok: "1000", output_per_mtok: "1000"}
    targets: [{provider: fake, model: gpt-4o-mini}]
`, filepath.Join(dir, "spill"), base)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for k, v := range billEnv() {
		env = append(env, k+"="+v)
	}
	env = append(env, "TOLLGATE_DATABASE_URL="+dbURL, "TOLLGATE_CONFIG=")
	addr := freeAddr(t)
	cmd := billProcess(t, bin, config, addr, env)
	g := &gateway{URL: "http://" + addr}
	keyID, key := g.createKey(t, `{"name":"load"}`)

	load := startBillLoad(g.URL, key, 48, false)
	waitUntil(t, func() bool { return load.count() >= 100 }, "100 answers before SIGTERM")
	before := load.count()
	billSigterm(t, cmd)
	answers := load.finish()
	t.Logf("%d answers before SIGTERM, %d in all; %d requests refused once it stopped listening",
		before, len(answers), load.lost)
	if len(answers) == before {
		t.Fatal("no request was in flight at SIGTERM")
	}

	billSigterm(t, billProcess(t, bin, config, addr, env)) // replays anything spilled
	rows := billRowsOfKey(billSpendRows(t, dbURL), keyID)
	checkEveryAnswerBilled(t, answers, rows)
}

// checkEveryAnswerBilled checks that each answered request has its spend row, at the
// cost its tokens come to, and that no other request has one.
func checkEveryAnswerBilled(t *testing.T, answers []billAnswer, rows map[string]store.SpendRow) {
	t.Helper()
	for _, a := range answers {
		r, ok := rows[a.id]
		if !ok {
			t.Errorf("request %s was answered %d but has no spend row", a.id, a.status)
			continue
		}
		// Both load bodies take at least 150ms upstream.
		if a.status != 200 || r.Status != 200 || r.CostNano == 0 || r.LatencyMS < 150 ||
			r.CostNano != billCost(r.PromptTokens, r.CachedTokens, r.CompletionTokens) {
			t.Errorf("request %s answered %d: row %+v", a.id, a.status, r)
		}
	}
	if len(rows) != len(answers) {
		t.Errorf("%d spend rows for %d answered requests", len(rows), len(answers))
	}
}

// TestSpendSurvivesDatabaseOutage cuts the gateway off PostgreSQL for 10 s while
// requests flow (keys are served from memory, the key has no budget): requests keep
// succeeding, and once the database is back, with no restart, every answered request
// has exactly one spend row.
func TestSpendSurvivesDatabaseOutage(t *testing.T) {
	dbURL := storetest.URL(t, store.DialectPostgres)
	proxy, proxied := billDBProxy(t, dbURL)
	g := startGateway(t, store.DialectPostgres, func(c *configs.Config) {
		c.DatabaseURL = proxied
		c.Billing.SpillDir = t.TempDir()
		c.Models = append(c.Models, billModel("priced", "fake", "gpt-4o-mini"))
	})
	keyID, key := g.createKey(t, `{"name":"outage"}`)
	load := startBillLoad(g.URL, key, 16, true)
	waitUntil(t, func() bool { return load.count() >= 50 }, "50 answers before the outage")
	proxy.Cut()
	during := load.count()
	time.Sleep(10 * time.Second)
	during = load.count() - during
	proxy.Restore()
	after := load.count()
	waitUntil(t, func() bool { return load.count() >= after+50 }, "answers after the outage")
	answers := load.finish()
	t.Logf("%d answers, %d during the 10 s outage", len(answers), during)
	if load.lost > 0 || during < 50 {
		t.Fatalf("requests stalled during the outage: %d answered, %d lost", during, load.lost)
	}
	var rows map[string]store.SpendRow
	billEventually(t, 30*time.Second, "every answered request's spend row is written", func() bool {
		rows = billRowsOfKey(billSpendRows(t, dbURL), keyID)
		return len(rows) >= len(answers)
	})
	checkEveryAnswerBilled(t, answers, rows)
	checkReportsMatch(t, g, keyID, rows)
	st := g.App.Spend.Stats()
	t.Logf("spend writer: %+v", st)
	if st.WriteErrors == 0 {
		t.Fatal("the spend writer never saw the database down: the outage did not happen")
	}
}

// billEventually polls cond until it holds, failing after limit.
func billEventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

// billDBProxy puts a proxy that the test can cut between the gateway and the
// database at dbURL, and returns it and the database's URL through it. Cut, it drops
// every connection and refuses new ones, as a stopped database server does.
func billDBProxy(t *testing.T, dbURL string) (*tcpproxy.Proxy, string) {
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p := tcpproxy.Start(t, u.Host)
	u.Host = p.Addr()
	return p, u.String()
}

// TestSpendSpilledInAnOutageIsReplayed stops the gateway while the database is away:
// the rows still queued go to the spill file, and a gateway started on the same spill
// directory once the database is back writes every one of them, once.
func TestSpendSpilledInAnOutageIsReplayed(t *testing.T) {
	dbURL := storetest.URL(t, store.DialectPostgres)
	proxy, proxied := billDBProxy(t, dbURL)
	_, base := billFake(t, fakellm.Options{})
	cfg := configs.Config{Listen: "127.0.0.1:0", DatabaseURL: proxied,
		Providers: []configs.Provider{billProvider("fake", "openai", base, nil)},
		Models:    []configs.Model{billModel("priced", "fake", "gpt-4o-mini")}}
	cfg.Billing.SpillDir = t.TempDir()
	env := billEnv()
	g := inProcessReplica(t, cfg, env)
	keyID, key := g.createKey(t, `{"name":"spilled"}`)
	load := startBillLoad(g.URL, key, 16, true)
	waitUntil(t, func() bool { return load.count() >= 50 }, "50 answers before the outage")
	proxy.Cut()
	during := load.count()
	waitUntil(t, func() bool { return load.count() >= during+100 }, "100 answers during the outage")
	answers := load.finish()
	billStopAll(t, g)
	if st := g.App.Spend.Stats(); st.Spilled == 0 {
		t.Fatalf("nothing was spilled at shutdown with the database away: %+v", st)
	}
	proxy.Restore()
	restarted := inProcessReplica(t, cfg, env)
	var rows map[string]store.SpendRow
	billEventually(t, 30*time.Second, "every answered request's spend row is replayed", func() bool {
		rows = billRowsOfKey(billSpendRows(t, dbURL), keyID)
		return len(rows) >= len(answers)
	})
	checkEveryAnswerBilled(t, answers, rows)
	t.Logf("%d answers; first writer %+v; after restart %+v", len(answers), g.App.Spend.Stats(),
		restarted.App.Spend.Stats())
}

// checkReportsMatch checks that the spend report (read from the rollups) and the
// paged log of the key agree with its spend rows.
func checkReportsMatch(t *testing.T, g *gateway, keyID string, rows map[string]store.SpendRow) {
	t.Helper()
	var cost int64
	for _, r := range rows {
		cost += r.CostNano
	}
	for _, group := range []string{"key", "model", "day"} {
		var rep billing.SpendReport
		json.Unmarshal(adminGet(t, g, "/spend?group_by="+group+"&key_id="+keyID).body, &rep)
		if len(rep.Data) != 1 || rep.Total.Requests != int64(len(rows)) || int64(rep.Total.CostUSD) != cost {
			t.Errorf("spend by %s: %+v; want %d requests costing %d nano-USD", group, rep, len(rows), cost)
		}
	}
	seen := 0
	for cursor := ""; ; {
		page := reportLogs(t, g, "limit=300&key_id="+keyID+"&cursor="+cursor)
		for _, r := range page.Data {
			if _, ok := rows[r.RequestID]; !ok {
				t.Errorf("log row %s is not a spend row", r.RequestID)
			}
		}
		seen += len(page.Data)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if seen != len(rows) {
		t.Errorf("the paged log has %d rows, want %d", seen, len(rows))
	}
}
