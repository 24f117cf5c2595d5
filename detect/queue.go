package detect

import "sync"

// queueKeep is the most observations of backing array an emptied queue keeps for
// reuse; the array of a larger burst goes back to the garbage collector.
const queueKeep = 1024

// obsQueue is the service's bounded queue of observations. Unlike a buffered channel it
// allocates as observations arrive rather than for its whole bound at start: a channel
// of 10,000 costs 1.3 MB for as long as the process runs, though the detector keeps up
// with all but bursts.
type obsQueue struct {
	mu  sync.Mutex
	obs []Observation
	max int
	// ready holds a token when observations may be waiting.
	ready chan struct{}
}

func newObsQueue(max int) *obsQueue {
	return &obsQueue{max: max, ready: make(chan struct{}, 1)}
}

// push queues o, reporting false when the queue is full.
func (q *obsQueue) push(o Observation) bool {
	q.mu.Lock()
	if len(q.obs) >= q.max {
		q.mu.Unlock()
		return false
	}
	q.obs = append(q.obs, o)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default: // A token is already waiting.
	}
	return true
}

// len returns the number of observations waiting.
func (q *obsQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.obs)
}

// swap takes every waiting observation and leaves spare, emptied, in their place, so
// that the two arrays are reused turn about.
func (q *obsQueue) swap(spare []Observation) []Observation {
	clear(spare)
	if cap(spare) > queueKeep {
		spare = nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.obs
	q.obs = spare[:0]
	return out
}
