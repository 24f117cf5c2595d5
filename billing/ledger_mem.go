package billing

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// memCounters keeps budget windows in this process, under one mutex: a reserve checks
// and updates every budget of a request in one critical section of a few map lookups.
type memCounters struct {
	mu      sync.Mutex
	windows map[string]*memWindow
	// held are the reservations not yet settled, by request id and attempt.
	held      map[resKey]*Reservation
	settled   settledSet
	lastSweep time.Time
}

// resKey names a reservation without building its id string, which would cost an
// allocation per reserve and per settle.
type resKey struct {
	request string
	attempt int
}

func keyOf(r *Reservation) resKey { return resKey{r.RequestID, r.Attempt} }

// settledSet remembers settled reservations for at least settledMemo and at most twice
// that. It keeps a seeded 64-bit hash per reservation in two generations, so that at
// thousands of requests per second it holds about 10 bytes per id instead of the id
// string, and forgetting a generation costs no scan. Two ids share a hash with
// probability 2⁻⁶⁴ per pair; the seed is random, so no client can aim for it. Such a
// collision would treat the later reservation as a repeat: it holds nothing and
// settles nothing in these counters (its spend row is still written).
type settledSet struct {
	seed      maphash.Seed
	cur, prev map[uint64]struct{}
	rotated   time.Time
}

// hash returns k's fingerprint; the odd multiplier keeps attempts of one request apart.
func (s *settledSet) hash(k resKey) uint64 {
	return maphash.String(s.seed, k.request) ^ uint64(k.attempt)*0x9e3779b97f4a7c15
}

// has reports whether k was settled within the memo.
func (s *settledSet) has(k resKey) bool {
	h := s.hash(k)
	if _, ok := s.cur[h]; ok {
		return true
	}
	_, ok := s.prev[h]
	return ok
}

// add remembers k as settled; rotate(now) comes first.
func (s *settledSet) add(k resKey) { s.cur[s.hash(k)] = struct{}{} }

// rotate starts a new generation once the current one is settledMemo old: every id of
// the one it retires was added at least settledMemo ago.
func (s *settledSet) rotate(now time.Time) {
	age := now.Sub(s.rotated)
	if s.cur != nil && age < settledMemo {
		return
	}
	s.prev = s.cur
	if age >= 2*settledMemo {
		s.prev = nil // Everything in cur is already older than the memo.
	}
	s.cur = make(map[uint64]struct{}, len(s.prev))
	s.rotated = now
}

// memWindow is one budget period's counters.
type memWindow struct {
	spent, reserved Money
	end             time.Time
}

// sweepEvery bounds how often expired reservations and old windows are looked for.
const sweepEvery = time.Second

func newMemCounters() *memCounters {
	return &memCounters{windows: map[string]*memWindow{}, held: map[resKey]*Reservation{},
		settled: settledSet{seed: maphash.MakeSeed()}}
}

// reserve seeds missing windows outside the lock, then checks and holds all or nothing.
func (m *memCounters) reserve(ctx context.Context, res *Reservation, seed seedFunc) (int, Money, Money, error) {
	for {
		m.mu.Lock()
		missing := m.missing(res.windows)
		if len(missing) == 0 {
			defer m.mu.Unlock()
			refused, spent, reserved := m.hold(res)
			return refused, spent, reserved, nil
		}
		m.mu.Unlock()
		if err := m.seedAll(ctx, missing, seed); err != nil {
			return 0, 0, 0, err
		}
	}
}

// missing returns the windows without a counter yet.
func (m *memCounters) missing(ws []window) []window {
	var out []window
	for _, w := range ws {
		if m.windows[w.id()] == nil {
			out = append(out, w)
		}
	}
	return out
}

// seedAll creates the counters of ws from persisted spend, unless another request did
// so meanwhile.
func (m *memCounters) seedAll(ctx context.Context, ws []window, seed seedFunc) error {
	for _, w := range ws {
		spent, err := seed(ctx, w)
		if err != nil {
			return err
		}
		m.mu.Lock()
		if m.windows[w.id()] == nil {
			m.windows[w.id()] = &memWindow{spent: spent, end: w.end}
		}
		m.mu.Unlock()
	}
	return nil
}

// hold checks and holds res against its windows; m.mu is held. It returns the index of
// the refusing window and its counters, or -1.
func (m *memCounters) hold(res *Reservation) (int, Money, Money) {
	m.sweep(res.At)
	id := keyOf(res)
	if _, dup := m.held[id]; dup {
		return -1, 0, 0
	}
	if m.settled.has(id) {
		return -1, 0, 0
	}
	if res.Amount > 0 {
		for i, w := range res.windows {
			c := m.windows[w.id()]
			if c.spent+c.reserved+res.Amount > w.Limit {
				return i, c.spent, c.reserved
			}
		}
	}
	for _, w := range res.windows {
		m.windows[w.id()].reserved += res.Amount
	}
	m.held[id] = res
	return -1, 0, 0
}

// sweep drops expired reservations (their holders are gone), old settled ids and the
// windows of past periods; m.mu is held.
func (m *memCounters) sweep(now time.Time) {
	if now.Sub(m.lastSweep) < sweepEvery {
		return
	}
	m.lastSweep = now
	for id, r := range m.held {
		if now.After(r.expires) {
			m.unhold(r)
			delete(m.held, id)
		}
	}
	m.settled.rotate(now)
	for id, w := range m.windows {
		if now.After(w.end) && w.reserved == 0 {
			delete(m.windows, id)
		}
	}
}

// unhold gives back what r holds; m.mu is held.
func (m *memCounters) unhold(r *Reservation) {
	for _, w := range r.windows {
		if c := m.windows[w.id()]; c != nil {
			c.reserved -= r.Amount
		}
	}
}

// settle moves res from held to spent, once.
func (m *memCounters) settle(_ context.Context, res *Reservation, actual Money, now time.Time) ([]Money, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := keyOf(res)
	m.settled.rotate(now)
	if m.settled.has(id) {
		return nil, nil
	}
	if held, ok := m.held[id]; ok {
		m.unhold(held)
		delete(m.held, id)
	}
	m.settled.add(id)
	out := make([]Money, len(res.windows))
	for i, w := range res.windows {
		c := m.windows[w.id()]
		if c == nil { // Swept after its period ended: the database has the record.
			out[i] = -1
			continue
		}
		c.spent += actual
		out[i] = c.spent
	}
	return out, nil
}

// read returns a window's counters, seeding it if needed.
func (m *memCounters) read(ctx context.Context, w window, seed seedFunc) (Money, Money, error) {
	for {
		m.mu.Lock()
		if c := m.windows[w.id()]; c != nil {
			defer m.mu.Unlock()
			return c.spent, c.reserved, nil
		}
		m.mu.Unlock()
		if err := m.seedAll(ctx, []window{w}, seed); err != nil {
			return 0, 0, err
		}
	}
}
