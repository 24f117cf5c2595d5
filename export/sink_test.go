package export

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/schema"
	"github.com/tollgate-llm/tollgate/telemetry"
)

func TestFileSinkRotatesAndKeepsABoundedNumberOfFiles(t *testing.T) {
	dir := t.TempDir()
	sink, err := NewFileSink(FileOptions{Path: filepath.Join(dir, "requests.jsonl"), MaxSizeMB: 1, MaxFiles: 2})
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(`{"event":"request","pad":"` + strings.Repeat("x", 1000) + `"}`)
	batch := make([][]byte, 100)
	for i := range batch {
		batch[i] = line
	}
	for range 50 { // about 5 MB: four or five rotations
		if err := sink.Write(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	sink.Close()
	var files []string
	deadline := time.Now().Add(5 * time.Second)
	for { // lumberjack removes old files in the background
		files, _ = filepath.Glob(filepath.Join(dir, "requests*.jsonl"))
		if len(files) <= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(files) != 3 {
		t.Fatalf("want the file and 2 rotated ones, got %v", files)
	}
	for _, f := range files {
		st, _ := os.Stat(f)
		if st.Size() > 1<<20 {
			t.Errorf("%s is %d bytes, over the 1 MB limit", f, st.Size())
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
		checkWholeLines(t, f)
	}
}

func checkWholeLines(t *testing.T, path string) {
	t.Helper()
	f, _ := os.Open(path)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), `{"event"`) || !strings.HasSuffix(sc.Text(), `"}`) {
			t.Fatalf("%s holds a broken line", path)
		}
	}
}

// collector is a webhook receiver that fails the first failures deliveries.
type collector struct {
	mu        sync.Mutex
	failures  int
	status    int
	bodies    []string
	sigs      []string
	delivered []string
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.delivered = append(c.delivered, r.Header.Get(billing.HeaderDelivery))
	if c.failures > 0 {
		c.failures--
		w.WriteHeader(c.status)
		return
	}
	if r.Header.Get("Content-Type") != "application/x-ndjson" || r.Header.Get("Authorization") != "Splunk hec-token" {
		w.WriteHeader(400)
		return
	}
	c.bodies = append(c.bodies, string(body))
	c.sigs = append(c.sigs, r.Header.Get(billing.HeaderSignature))
}

func TestWebhookRetriesWithTheSameDeliveryAndSigns(t *testing.T) {
	c := &collector{failures: 2, status: 503}
	srv := httptest.NewServer(c)
	defer srv.Close()
	secret := "whsec-test"
	sink, err := NewWebhookSink(WebhookOptions{URL: srv.URL, Secret: schema.NewSecret(secret), RetryBase: time.Millisecond,
		Headers: map[string]schema.Secret{"Authorization": schema.NewSecret("Splunk hec-token")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(context.Background(), [][]byte{[]byte(`{"a":1}`), []byte(`{"b":2}`)}); err != nil {
		t.Fatal(err)
	}
	if len(c.delivered) != 3 || c.delivered[0] != c.delivered[2] {
		t.Fatalf("deliveries %v: want three attempts of one delivery", c.delivered)
	}
	if c.bodies[0] != "{\"a\":1}\n{\"b\":2}\n" {
		t.Errorf("body %q", c.bodies[0])
	}
	if err := billing.VerifySignature([]byte(secret), c.sigs[0], []byte(c.bodies[0]), time.Now(), time.Minute); err != nil {
		t.Errorf("signature: %v", err)
	}
}

func TestWebhookDoesNotRetryARefusal(t *testing.T) {
	c := &collector{failures: 5, status: 400}
	srv := httptest.NewServer(c)
	defer srv.Close()
	sink, _ := NewWebhookSink(WebhookOptions{URL: srv.URL, RetryBase: time.Millisecond})
	if err := sink.Write(context.Background(), [][]byte{[]byte(`{}`)}); err == nil {
		t.Fatal("a 400 was taken as delivered")
	}
	if len(c.delivered) != 1 {
		t.Errorf("a 400 was retried: %d attempts", len(c.delivered))
	}
	if err := sink.Write(context.Background(), nil); err == nil || strings.Contains(err.Error(), srv.URL) {
		t.Errorf("the error must not repeat the URL: %v", err)
	}
}

// stuckSink blocks every write until released.
type stuckSink struct{ release chan struct{} }

func (s *stuckSink) Write(ctx context.Context, _ [][]byte) error {
	select {
	case <-s.release:
	case <-ctx.Done():
	}
	return nil
}

func (s *stuckSink) Close() error { return nil }

func TestASlowSinkNeverBlocksRequestsNorOtherSinks(t *testing.T) {
	stuck := &stuckSink{release: make(chan struct{})}
	fast := newMemSink()
	e, err := New(Options{Sinks: map[string]Sink{"stuck": stuck, "fast": fast}, QueueSize: 10, BatchSize: 1,
		FlushInterval: time.Millisecond, DrainTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	for range 30 { // the stuck sink's queue fills after about ten; the rest are dropped
		e.Request(billed())
		fast.next(t) // the fast sink keeps up all the while
	}
	close(stuck.release)
	cancel()
	<-done
	st := e.Stats()
	if st["stuck"].Dropped == 0 {
		t.Errorf("the stuck sink dropped nothing: %+v", st["stuck"])
	}
	if got := st["fast"].Written; got != 30 {
		t.Errorf("the fast sink wrote %d lines while the other was stuck", got)
	}
}

func TestRunDrainsTheQueueWhenItStops(t *testing.T) {
	sink := newMemSink()
	e, _ := New(Options{Sinks: map[string]Sink{"mem": sink}, FlushInterval: time.Hour, BatchSize: 1000})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	for range 25 {
		e.Request(telemetry.Finished{RequestEnd: telemetry.RequestEnd{Status: 200, RequestID: "r"}, Route: "/v1/models"})
	}
	cancel()
	<-done
	if n := len(sink.lines); n != 25 {
		t.Fatalf("%d of 25 lines written at stop", n)
	}
}
