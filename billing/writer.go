package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-llm/tollgate/store"
)

// SpendStore is where the spend writer puts rows; *store.DB is one.
type SpendStore interface {
	InsertSpend(ctx context.Context, rows []store.SpendRow, loc *time.Location) (int, error)
}

var _ SpendStore = (*store.DB)(nil)

// WriterOptions configures a Writer. Zero values take the defaults shown.
type WriterOptions struct {
	Store SpendStore
	// Location is the time zone of the rollups' local days: the budget time zone.
	Location *time.Location
	// SpillDir holds the spill file (rows the database could not take); required. One
	// directory per replica.
	SpillDir string
	// QueueSize bounds the rows waiting in memory (10000).
	QueueSize int
	// BatchSize is the most rows per database transaction (500).
	BatchSize int
	// FlushInterval writes a partial batch after this long (500ms).
	FlushInterval time.Duration
	// WriteTimeout bounds one attempt to write a batch (30s); at shutdown an attempt
	// gets at most 5s before the rows go to the spill file.
	WriteTimeout time.Duration
	// BlockTimeout is how long Append waits for room in a full queue before it spills
	// the row to the file instead (50ms).
	BlockTimeout time.Duration
	// RetryInterval is the first pause after a failed write; it doubles up to 8 times
	// that (500ms).
	RetryInterval time.Duration
	Logger        *slog.Logger
}

func (o *WriterOptions) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.QueueSize, 10000)
	def(&o.BatchSize, 500)
	defDur(&o.FlushInterval, 500*time.Millisecond)
	defDur(&o.WriteTimeout, 30*time.Second)
	defDur(&o.BlockTimeout, 50*time.Millisecond)
	defDur(&o.RetryInterval, 500*time.Millisecond)
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// WriterStats counts what a Writer did since it was made.
type WriterStats struct {
	// Appended rows were accepted by Append; Written reached the database (Duplicates
	// of them were already there); Spilled went to the spill file, Replayed came back
	// from it; WriteErrors counts failed batch writes; Queued is waiting now.
	Appended, Written, Duplicates, Spilled, Replayed, WriteErrors int64
	Queued                                                        int
}

// Writer writes spend rows in batches, off the request path, through a bounded queue
// and one goroutine (Run). A full queue makes Append wait briefly, then spill the row to
// an append-only file rather than grow memory. While the database is down the writer
// retries its batch, the queue fills and the overflow spills; the file is replayed when
// writes succeed again and at start. Rows carry ids and the store skips known ids, so a
// replay never counts a row twice. Close drains everything to the database or the file.
type Writer struct {
	opts    WriterOptions
	queue   *rowQueue
	spill   *spillFile
	mu      sync.RWMutex
	closed  bool
	closing chan struct{}
	done    chan struct{}
	running atomic.Bool
	stats   struct {
		appended, written, duplicates, spilled, replayed, writeErrors atomic.Int64
	}
}

// ErrWriterClosed is returned by Run on a writer that was already run or closed.
var ErrWriterClosed = errors.New("billing: spend writer already running or closed")

// NewWriter returns a writer; start it with Run and stop it with Close.
func NewWriter(opts WriterOptions) (*Writer, error) {
	if opts.Store == nil || opts.SpillDir == "" {
		return nil, errors.New("billing: a spend writer needs a store and a spill directory")
	}
	opts.setDefaults()
	spill, err := openSpill(opts.SpillDir)
	if err != nil {
		return nil, err
	}
	return &Writer{opts: opts, queue: newRowQueue(opts.QueueSize, opts.BatchSize), spill: spill,
		closing: make(chan struct{}), done: make(chan struct{})}, nil
}

// Append queues rows for writing. It never loses a row: when the queue stays full for
// BlockTimeout, or the writer is closed, the rows go to the spill file (fsync'd) at
// once, and an error is returned only if that fails too. It does not wait for the
// database.
func (w *Writer) Append(ctx context.Context, rows ...store.SpendRow) error {
	// The read lock keeps Close from finishing while a row is on its way into the
	// queue, so that no row lands in a queue nobody drains any more.
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return w.spillRows(rows)
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		n, room := w.queue.push(rows)
		w.stats.appended.Add(int64(n))
		rows = rows[n:]
		if room == nil {
			return nil
		}
		if timer == nil {
			timer = time.NewTimer(w.opts.BlockTimeout)
		}
		select {
		case <-room:
		case <-timer.C:
			return w.spillRows(rows)
		case <-ctx.Done():
			return w.spillRows(rows)
		}
	}
}

// stopIntake makes later Appends spill, once no Append is still queueing.
func (w *Writer) stopIntake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		close(w.closing)
	}
}

// spillRows writes rows to the spill file on the caller's goroutine.
func (w *Writer) spillRows(rows []store.SpendRow) error {
	if err := w.spill.append(rows); err != nil {
		return fmt.Errorf("spend rows lost: %w", err)
	}
	w.stats.appended.Add(int64(len(rows)))
	w.stats.spilled.Add(int64(len(rows)))
	return nil
}

// Run is the writer's goroutine: it batches queued rows, writes them on BatchSize or
// FlushInterval, and replays the spill file at start and whenever the database takes
// writes again. It returns after Close, or when ctx is done, once every queued row is
// written or spilled. Panics are recovered and logged; the queue then spills.
func (w *Writer) Run(ctx context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return ErrWriterClosed
	}
	defer close(w.done)
	batch := make([]store.SpendRow, 0, w.opts.BatchSize)
	defer func() {
		if p := recover(); p != nil {
			w.opts.Logger.Error("spend writer panicked; its rows and later ones go to the spill file until restart",
				"panic", fmt.Sprint(p))
			w.stopIntake() // Waits at most BlockTimeout for Appends blocked on the queue.
			w.drainToSpill(batch)
		}
	}()
	w.replay(ctx)
	ticker := time.NewTicker(w.opts.FlushInterval)
	defer ticker.Stop()
	for {
		select {
		case <-w.queue.ready:
			batch = w.flushFull(ctx, batch)
		case <-ticker.C:
			batch = w.flush(ctx, w.flushFull(ctx, batch))
			if w.spill.pending() {
				w.replay(ctx)
			}
		case <-w.closing:
			w.drain(ctx, batch)
			return nil
		case <-ctx.Done():
			w.stopIntake()
			w.drain(context.WithoutCancel(ctx), batch)
			return nil
		}
	}
}
