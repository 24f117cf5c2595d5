package billing

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// rowCost is the cost of every test spend row.
const rowCost = 1_000

// testRow is a request row with a unique id.
func testRow(prefix string, i int) store.SpendRow {
	id := fmt.Sprintf("%s-%05d", prefix, i)
	return store.SpendRow{ID: id, Time: time.Date(2026, 11, 3, 10, 0, 0, i, time.UTC),
		RecordType: store.SpendRequest, RequestID: id, Attempt: 1, KeyID: "k", Project: "p",
		Endpoint: "chat", Model: "gpt-4o", Provider: "openai", Status: 200, PromptTokens: 10,
		CompletionTokens: 2, CostNano: rowCost, UsageSource: "provider", PriceVersion: "openai/gpt-4o@1"}
}

// startWriter runs a writer until the test ends.
func startWriter(t testing.TB, o WriterOptions) *Writer {
	t.Helper()
	w, err := NewWriter(o)
	if err != nil {
		t.Fatal(err)
	}
	go w.Run(context.Background())
	t.Cleanup(func() { w.Close(context.Background()) })
	return w
}

// waitFor polls cond until it holds or a minute passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func countRows(t testing.TB, db *store.DB) int64 {
	t.Helper()
	n, err := db.CountSpend(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkExactlyOnce asserts that n rows are stored and counted once in the rollups.
func checkExactlyOnce(t testing.TB, db *store.DB, n int) {
	t.Helper()
	if got := countRows(t, db); got != int64(n) {
		t.Fatalf("spend_log has %d rows, want %d", got, n)
	}
	spent, err := db.SpentSince(context.Background(), store.BudgetScopeKey, "k", time.Unix(0, 0))
	if err != nil || spent != int64(n)*rowCost {
		t.Fatalf("rollup spend = %d, %v; want %d (every row counted once)", spent, err, int64(n)*rowCost)
	}
}

func TestWriterBatches(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		w := startWriter(t, WriterOptions{Store: db, SpillDir: t.TempDir(), BatchSize: 50, FlushInterval: time.Hour})
		for i := range 120 {
			if err := w.Append(context.Background(), testRow("b", i)); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "two full batches", func() bool { return countRows(t, db) == 100 })
		time.Sleep(50 * time.Millisecond)
		if n := countRows(t, db); n != 100 {
			t.Fatalf("%d rows written before the flush interval, want the 2 full batches (100)", n)
		}
		if err := w.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkExactlyOnce(t, db, 120)
	})
}

func TestWriterFlushesOnTimer(t *testing.T) {
	db := storetest.Open(t, store.DialectSQLite)
	w := startWriter(t, WriterOptions{Store: db, SpillDir: t.TempDir(), BatchSize: 1000, FlushInterval: 20 * time.Millisecond})
	w.Append(context.Background(), testRow("t", 1), testRow("t", 2), testRow("t", 3))
	waitFor(t, "the timed flush", func() bool { return countRows(t, db) == 3 })
}

// TestWriterShutdownLosesNothing appends from many goroutines while the writer is
// closed under them: every Append that returned nil has its row in the database, or
// in the spill file that the next start replays. The test counts them.
func TestWriterShutdownLosesNothing(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		w, _ := NewWriter(WriterOptions{Store: db, SpillDir: dir, QueueSize: 300, BatchSize: 100})
		go w.Run(context.Background())
		const workers, each = 8, 500
		var wg sync.WaitGroup
		for g := range workers {
			wg.Go(func() {
				for i := range each {
					if err := w.Append(context.Background(), testRow(fmt.Sprintf("s%d", g), i)); err != nil {
						t.Errorf("Append: %v", err)
					}
				}
			})
		}
		waitFor(t, "some rows", func() bool { return w.Stats().Appended > 1000 })
		if err := w.Close(context.Background()); err != nil { // SIGTERM mid-load.
			t.Fatal(err)
		}
		wg.Wait()
		st := w.Stats()
		t.Logf("at shutdown: %d written, %d spilled", st.Written, st.Spilled)
		if st.Appended != workers*each {
			t.Fatalf("Appended = %d, want %d", st.Appended, workers*each)
		}
		// The restart: a new writer on the same spill directory replays what was spilled.
		restarted := startWriter(t, WriterOptions{Store: db, SpillDir: dir})
		waitFor(t, "the replay", func() bool { return countRows(t, db) == workers*each })
		restarted.Close(context.Background())
		checkExactlyOnce(t, db, workers*each)
		if files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl")); len(files) != 0 {
			t.Errorf("spill files left after the replay: %v", files)
		}
	})
}

// TestWriterDatabaseDown cuts the connection to PostgreSQL for a few seconds under
// load: requests keep appending, rows wait in the queue and spill to the file, and once
// the database is back every row arrives exactly once, without a restart.
func TestWriterDatabaseDown(t *testing.T) {
	db, direct, p := proxiedPostgres(t)
	w := startWriter(t, WriterOptions{Store: db, SpillDir: t.TempDir(), QueueSize: 200, BatchSize: 50,
		FlushInterval: 20 * time.Millisecond, WriteTimeout: 300 * time.Millisecond,
		RetryInterval: 50 * time.Millisecond, BlockTimeout: time.Millisecond})
	const total = 3000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range total {
			if err := w.Append(context.Background(), testRow("d", i)); err != nil {
				t.Errorf("Append: %v", err)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	waitFor(t, "traffic", func() bool { return w.Stats().Appended > 300 })
	p.cut()
	time.Sleep(3 * time.Second)
	p.restore()
	<-done
	waitFor(t, "every row", func() bool { return countRows(t, direct) == total })
	st := w.Stats()
	t.Logf("stats: %+v", st)
	if st.WriteErrors == 0 || st.Spilled == 0 || st.Replayed == 0 {
		t.Fatalf("the outage was not exercised: %+v", st)
	}
	checkExactlyOnce(t, direct, total)
}

// TestWriterBackPressure checks that memory stays bounded while the database is down:
// beyond the queue and the batch in hand, rows go to the file, and all arrive later.
func TestWriterBackPressure(t *testing.T) {
	db, direct, p := proxiedPostgres(t)
	p.cut()
	dir := t.TempDir()
	const queue, batch, total = 10, 5, 500
	w := startWriter(t, WriterOptions{Store: db, SpillDir: dir, QueueSize: queue, BatchSize: batch,
		WriteTimeout: 100 * time.Millisecond, RetryInterval: 20 * time.Millisecond, BlockTimeout: time.Millisecond})
	for i := range total {
		if err := w.Append(context.Background(), testRow("p", i)); err != nil {
			t.Fatal(err)
		}
	}
	st := w.Stats()
	if st.Queued > queue || st.Spilled < total-queue-batch {
		t.Fatalf("%d queued and %d spilled of %d; memory must hold at most %d+%d", st.Queued, st.Spilled, total, queue, batch)
	}
	if info, err := os.Stat(filepath.Join(dir, spillName)); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("spill file: %v, %v", info, err)
	}
	p.restore()
	waitFor(t, "every row", func() bool { return countRows(t, direct) == total })
	checkExactlyOnce(t, direct, total)
}

func TestWriterSkipsTornSpillLine(t *testing.T) {
	db := storetest.Open(t, store.DialectSQLite)
	dir := t.TempDir()
	s, _ := openSpill(dir)
	if err := s.append([]store.SpendRow{testRow("x", 1), testRow("x", 2)}); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(filepath.Join(dir, spillName), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"id":"x-00003","ti`) // A crash in the middle of a write.
	f.Close()
	w := startWriter(t, WriterOptions{Store: db, SpillDir: dir})
	waitFor(t, "the replay", func() bool { return countRows(t, db) == 2 })
	w.Close(context.Background())
}
