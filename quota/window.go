package quota

import "time"

// The sliding window: per-minute limits count what was used in the current one-second
// bucket and the 60 before it. A unit counted at time t leaves the window between 60 s
// and 61 s later, so no rolling 60 s ever holds more than the limit.
const (
	bucketMillis  = 1000
	windowBuckets = 61
	windowMillis  = bucketMillis * windowBuckets
)

// bucketOf returns the bucket of a time in Unix milliseconds.
func bucketOf(ms int64) int64 { return ms / bucketMillis }

// leavesIn returns how long after nowMs bucket b stops being counted.
func leavesIn(b, nowMs int64) time.Duration {
	return time.Duration((b+windowBuckets)*bucketMillis-nowMs) * time.Millisecond
}

// slot returns the index of bucket b in the ring.
func slot(b int64) int64 { return (b%windowBuckets + windowBuckets) % windowBuckets }

// window is one scope's counts of one kind in process memory.
type window struct {
	counts [windowBuckets]int64
	head   int64 // the newest bucket the window has advanced to
	total  int64
}

// advance moves the window to bucket b, dropping the buckets that left it.
func (w *window) advance(b int64) {
	if b <= w.head {
		return
	}
	if b-w.head >= windowBuckets {
		w.counts, w.total = [windowBuckets]int64{}, 0
	} else {
		for i := w.head + 1; i <= b; i++ {
			w.total -= w.counts[slot(i)]
			w.counts[slot(i)] = 0
		}
	}
	w.head = b
}

// inWindow reports whether bucket b is still counted.
func (w *window) inWindow(b int64) bool { return b <= w.head && b > w.head-windowBuckets }

// add counts n (possibly negative) in bucket b, never taking a bucket below zero.
func (w *window) add(b, n int64) {
	c := &w.counts[slot(b)]
	n = max(n, -*c)
	*c += n
	w.total += n
}

// retryIn returns the time until need units have left the window, or zero when the
// window does not hold that many.
func (w *window) retryIn(need, nowMs int64) time.Duration {
	if need <= 0 {
		return 0
	}
	var acc int64
	for b := w.head - windowBuckets + 1; b <= w.head; b++ {
		if acc += w.counts[slot(b)]; acc >= need {
			return leavesIn(b, nowMs)
		}
	}
	return 0
}

// resetIn returns the time until the window is empty.
func (w *window) resetIn(nowMs int64) time.Duration {
	for b := w.head; b > w.head-windowBuckets; b-- {
		if w.counts[slot(b)] != 0 {
			return leavesIn(b, nowMs)
		}
	}
	return 0
}
