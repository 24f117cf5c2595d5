package billing

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/tollgate-llm/tollgate/store"
)

// shutdownWriteTimeout bounds the one write attempt per batch while draining at
// shutdown, so that a dead database leaves time to spill within a shutdown deadline.
const shutdownWriteTimeout = 5 * time.Second

// write writes one batch within timeout.
func (w *Writer) write(ctx context.Context, rows []store.SpendRow, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	n, err := w.opts.Store.InsertSpend(ctx, rows, w.opts.Location)
	if err != nil {
		w.stats.writeErrors.Add(1)
		return err
	}
	w.stats.written.Add(int64(len(rows)))
	w.stats.duplicates.Add(int64(len(rows) - n))
	return nil
}

// flush writes batch, retrying with backoff while the database refuses; meanwhile the
// queue fills and Append spills the overflow. On Close it spills the batch instead of
// waiting. It returns the emptied batch.
func (w *Writer) flush(ctx context.Context, batch []store.SpendRow) []store.SpendRow {
	if len(batch) == 0 {
		return batch
	}
	pause := w.opts.RetryInterval
	for failures := 0; ; failures++ {
		err := w.write(ctx, batch, w.opts.WriteTimeout)
		if err == nil {
			if failures > 0 {
				w.opts.Logger.Info("spend writes recovered", "failed_attempts", failures)
			}
			return batch[:0]
		}
		if failures == 0 {
			w.opts.Logger.Warn("spend rows cannot be written; holding them and retrying",
				"rows", len(batch), "error", err)
		}
		timer := time.NewTimer(pause)
		select {
		case <-timer.C:
			pause = min(2*pause, 8*w.opts.RetryInterval)
		case <-w.closing:
			timer.Stop()
			w.spillOrLog(batch)
			return batch[:0]
		case <-ctx.Done():
			timer.Stop()
			w.spillOrLog(batch)
			return batch[:0]
		}
	}
}

// spillOrLog spills rows from the writer goroutine; a failure is logged loudly since
// there is no caller left to tell.
func (w *Writer) spillOrLog(rows []store.SpendRow) {
	if err := w.spill.append(rows); err != nil {
		w.opts.Logger.Error("spend rows lost: neither the database nor the spill file took them",
			"rows", len(rows), "error", err)
		return
	}
	w.stats.spilled.Add(int64(len(rows)))
}

// drain empties the queue at shutdown: batches go to the database until one write
// fails, and everything after that to the spill file, so a dead database costs one
// WriteTimeout, not one per batch.
func (w *Writer) drain(ctx context.Context, batch []store.SpendRow) {
	dbDown := false
	for {
		batch = w.takeQueued(batch, w.opts.BatchSize)
		if len(batch) == 0 {
			return
		}
		if dbDown {
			w.spillOrLog(batch)
		} else if err := w.write(ctx, batch, min(w.opts.WriteTimeout, shutdownWriteTimeout)); err != nil {
			w.opts.Logger.Warn("spend rows spilled at shutdown", "rows", len(batch), "error", err)
			w.spillOrLog(batch)
			dbDown = true
		}
		batch = batch[:0]
	}
}

// flushFull moves queued rows into batch and writes every full batch; it returns the
// partial batch left.
func (w *Writer) flushFull(ctx context.Context, batch []store.SpendRow) []store.SpendRow {
	for {
		batch = w.queue.take(batch, w.opts.BatchSize)
		if len(batch) < w.opts.BatchSize {
			return batch
		}
		batch = w.flush(ctx, batch)
	}
}

// takeQueued appends queued rows to batch, without waiting, until it holds limit.
func (w *Writer) takeQueued(batch []store.SpendRow, limit int) []store.SpendRow {
	return w.queue.take(batch, limit)
}

// drainToSpill spills the batch and the queue after a panic.
func (w *Writer) drainToSpill(batch []store.SpendRow) {
	if rows := w.takeQueued(slices.Clone(batch), math.MaxInt); len(rows) > 0 {
		w.spillOrLog(rows)
	}
}

// replay writes the spill file's rows back, batch by batch; on a failed write it stops
// and leaves the rest for later.
func (w *Writer) replay(ctx context.Context) {
	err := w.spill.replay(w.opts.BatchSize, func(rows []store.SpendRow) error {
		if err := w.write(ctx, rows, w.opts.WriteTimeout); err != nil {
			return err
		}
		w.stats.replayed.Add(int64(len(rows)))
		return nil
	}, func(line int, err error) {
		w.opts.Logger.Error("spill file line is not a spend row; skipped", "line", line, "error", err)
	})
	if err != nil {
		w.opts.Logger.Warn("spill file replay paused", "error", err)
	}
}

// Close stops intake (later Appends spill to the file) and waits until Run has written
// or spilled every queued row, or ctx is done. If Run was never started, Close drains
// the queue itself.
func (w *Writer) Close(ctx context.Context) error {
	w.stopIntake()
	if w.running.CompareAndSwap(false, true) {
		w.drain(ctx, nil)
		close(w.done)
		return nil
	}
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns the writer's counters.
func (w *Writer) Stats() WriterStats {
	return WriterStats{
		Appended: w.stats.appended.Load(), Written: w.stats.written.Load(),
		Duplicates: w.stats.duplicates.Load(), Spilled: w.stats.spilled.Load(),
		Replayed: w.stats.replayed.Load(), WriteErrors: w.stats.writeErrors.Load(),
		Queued: w.queue.len(),
	}
}
