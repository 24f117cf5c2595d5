package main

import (
	"context"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// fdsPerStream is what one stream through a gateway costs the gateway in file
// descriptors: the client's connection and the upstream's.
const fdsPerStream = 2

// fdReserve are descriptors kept for everything else: listeners, the database, logs,
// idle pooled connections.
const fdReserve = 512

// raiseFDLimit raises the soft limit on open files to the hard limit (children inherit
// it) and returns how many streams fit through a gateway under it, at most want.
func raiseFDLimit(want int) (streams int, hard uint64, err error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, 0, err
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, lim.Max, err
	}
	fit := (int(min(lim.Max, 1<<30)) - fdReserve) / fdsPerStream
	return max(0, min(want, fit)), lim.Max, nil
}

// openStreams is what holding many slow streams open cost one target.
type openStreams struct {
	// Held is the most streams open at once, counted by the client: first byte read,
	// end not yet.
	Held int64 `json:"held"`
	// Errors counts streams that failed before the bench closed them.
	Errors   int64  `json:"errors"`
	FirstErr string `json:"first_error,omitempty"`
	// BaselineMB is the gateway's resident set once started, before any load; PeakMB
	// the most it reached while the streams were open. KBPerStream is the difference per
	// stream held: an upper bound, since it includes what earlier load left resident.
	BaselineMB  float64 `json:"baseline_rss_mb,omitempty"`
	PeakMB      float64 `json:"peak_rss_mb,omitempty"`
	KBPerStream float64 `json:"kb_per_stream,omitempty"`
}

// openWait bounds how long holdStreams waits, after the last stream was started, for
// all of them to be open at once.
const openWait = 30 * time.Second

// holdStreams opens n slow streams at rate per second. Once all are open at once (or
// openWait after the last was started) it runs atPeak, if any, keeps them open for
// hold, then closes them all from the client side, as clients that leave do. It samples
// the gateway's resident set all along; baselineKB is its resident set at start.
func holdStreams(ctx context.Context, t *target, n, rate int, b body, hold time.Duration, baselineKB int64, atPeak func()) openStreams {
	var res openStreams
	var open, held, failed atomic.Int64
	var errOnce, allOnce sync.Once
	allOpen := make(chan struct{})
	sctx, cut := context.WithCancel(ctx)
	defer cut()
	stopSampling := sampleRSS(t, rssKB(t))
	var wg sync.WaitGroup
	pace(ctx, vegeta.ConstantPacer{Freq: rate, Per: time.Second}, 0, n, func() {
		wg.Go(func() {
			r := doStream(sctx, t, t.base, b.next(), streamOpts{readBuf: 1024, opened: func() {
				now := open.Add(1)
				for h := held.Load(); now > h && !held.CompareAndSwap(h, now); h = held.Load() {
				}
				if now == int64(n) {
					allOnce.Do(func() { close(allOpen) })
				}
			}})
			if r.ttft > 0 {
				open.Add(-1)
			}
			if r.err != nil && sctx.Err() == nil {
				failed.Add(1)
				errOnce.Do(func() { res.FirstErr = r.err.Error() })
			}
		})
	})
	select {
	case <-allOpen:
		if atPeak != nil {
			atPeak()
		}
		sleepCtx(ctx, hold)
	case <-time.After(openWait):
	case <-ctx.Done():
	}
	cut()
	wg.Wait()
	res.Held, res.Errors = held.Load(), failed.Load()
	top := stopSampling()
	if t.gateway() {
		res.BaselineMB, res.PeakMB = round1(float64(baselineKB)/1024), round1(float64(top)/1024)
		if res.Held > 0 {
			res.KBPerStream = round1(float64(top-baselineKB) / float64(res.Held))
		}
	}
	t.client.CloseIdleConnections()
	return res
}

// sampleRSS samples the target's resident set every 100ms from now on; stop ends the
// sampling and returns the largest value seen, at least from.
func sampleRSS(t *target, from int64) (stop func() int64) {
	peak := new(atomic.Int64)
	peak.Store(from)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				peak.Store(max(peak.Load(), rssKB(t)))
			}
		}
	})
	return func() int64 {
		close(done)
		wg.Wait()
		return max(peak.Load(), rssKB(t))
	}
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

// rssKB returns the target's resident set in KiB, 0 for direct.
func rssKB(t *target) int64 {
	if t.proc == nil {
		return 0
	}
	kb, _ := t.proc.memKB("VmRSS")
	return kb
}
