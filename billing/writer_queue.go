package billing

import (
	"sync"

	"github.com/tollgate-llm/tollgate/store"
)

// queueKeep is the most rows of backing array an empty queue keeps for reuse: enough
// for the steady state of a few thousand requests per second between two wake-ups of
// the writer; the array of a larger burst goes back to the garbage collector.
const queueKeep = 1024

// rowQueue is the writer's bounded FIFO of spend rows. Unlike a buffered channel it
// allocates as rows arrive rather than for its whole bound at start: a channel of 10,000
// rows costs 3.5 MB for as long as the process runs, though it rarely holds more than
// a few hundred.
type rowQueue struct {
	mu   sync.Mutex
	rows []store.SpendRow // rows[head:] are queued.
	head int
	max  int
	// full is how many queued rows make a batch worth waking the writer for; fewer wait
	// for its ticker. Waking it for every row put a goroutine wake-up (a futex call when
	// the writer's P was idle) on every request's path.
	full int
	// ready holds a token when a batch may be waiting; the writer's goroutine waits on it.
	ready chan struct{}
	// room, when not nil, is closed when rows are taken; producers of a full queue
	// wait on it.
	room chan struct{}
}

func newRowQueue(limit, full int) *rowQueue {
	return &rowQueue{max: limit, full: max(min(full, limit), 1), ready: make(chan struct{}, 1)}
}

// len returns the number of rows queued.
func (q *rowQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.rows) - q.head
}

// push queues as many of rows as there is room for and returns how many it took, and,
// when it could not take them all, a channel closed once rows are taken. It wakes the
// writer only when a batch is full or the queue is; the writer's ticker takes the rest.
func (q *rowQueue) push(rows []store.SpendRow) (int, <-chan struct{}) {
	q.mu.Lock()
	n := min(len(rows), q.max-(len(q.rows)-q.head))
	if n > 0 {
		if q.head > 0 && len(q.rows)+n > cap(q.rows) {
			// Slide the queued rows to the front instead of growing the array.
			m := copy(q.rows, q.rows[q.head:])
			clear(q.rows[m:])
			q.rows, q.head = q.rows[:m], 0
		}
		q.rows = append(q.rows, rows[:n]...)
	}
	var room chan struct{}
	if n < len(rows) {
		if q.room == nil {
			q.room = make(chan struct{})
		}
		room = q.room
	}
	wake := n < len(rows) || len(q.rows)-q.head >= q.full
	q.mu.Unlock()
	if wake {
		select {
		case q.ready <- struct{}{}:
		default: // A token is already waiting.
		}
	}
	return n, room
}

// take appends queued rows to batch, without waiting, until batch holds limit rows,
// and wakes producers waiting for room.
func (q *rowQueue) take(batch []store.SpendRow, limit int) []store.SpendRow {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(len(q.rows)-q.head, limit-len(batch))
	if n <= 0 {
		return batch
	}
	batch = append(batch, q.rows[q.head:q.head+n]...)
	clear(q.rows[q.head : q.head+n]) // Let the strings go with the batch.
	q.head += n
	if q.head == len(q.rows) {
		if cap(q.rows) > queueKeep {
			q.rows = nil
		} else {
			q.rows = q.rows[:0]
		}
		q.head = 0
	}
	if q.room != nil {
		close(q.room)
		q.room = nil
	}
	return batch
}
