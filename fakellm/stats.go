package fakellm

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Recorded is one request as the fake received it.
type Recorded struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	// Body is the request body; callers must not modify it.
	Body []byte
	// Key is the API key the request carried, "" when none.
	Key  string
	Time time.Time
}

// stats counts requests; every method is safe for concurrent use.
type stats struct {
	count, cancelled, inFlight, peak atomic.Int64

	mu       sync.Mutex
	perKey   map[string]*keyFlight
	recorded []Recorded // ring of the newest limit requests
	next     int        // where the next recorded request goes once the ring is full
	limit    int
}

type keyFlight struct{ current, max int64 }

func (st *stats) init(limit int) {
	st.limit = max(limit, 0)
	st.perKey = map[string]*keyFlight{}
}

func (st *stats) begin(c *call) {
	st.count.Add(1)
	n := st.inFlight.Add(1)
	for p := st.peak.Load(); n > p && !st.peak.CompareAndSwap(p, n); p = st.peak.Load() {
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	kf := st.perKey[c.key]
	if kf == nil {
		kf = &keyFlight{}
		st.perKey[c.key] = kf
	}
	kf.current++
	kf.max = max(kf.max, kf.current)
	if st.limit == 0 {
		return
	}
	rec := Recorded{
		Method: c.r.Method, Path: c.r.URL.Path, RawQuery: c.r.URL.RawQuery,
		Header: c.r.Header.Clone(), Body: c.body, Key: c.key, Time: c.start,
	}
	if len(st.recorded) < st.limit {
		st.recorded = append(st.recorded, rec)
		return
	}
	st.recorded[st.next] = rec
	st.next = (st.next + 1) % st.limit
}

func (st *stats) end(c *call) {
	st.inFlight.Add(-1)
	st.mu.Lock()
	defer st.mu.Unlock()
	if kf := st.perKey[c.key]; kf != nil {
		kf.current--
	}
}

func (st *stats) reset() {
	st.count.Store(0)
	st.cancelled.Store(0)
	st.peak.Store(st.inFlight.Load())
	st.mu.Lock()
	defer st.mu.Unlock()
	for k, kf := range st.perKey {
		if kf.current == 0 {
			delete(st.perKey, k)
			continue
		}
		kf.max = kf.current
	}
	st.recorded, st.next = nil, 0
}

// Requests returns the recorded requests, oldest first (at most Options.MaxRecorded).
func (s *Server) Requests() []Recorded {
	st := &s.stats
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]Recorded, 0, len(st.recorded))
	out = append(out, st.recorded[st.next:]...)
	return append(out, st.recorded[:st.next]...)
}

// LastRequest returns the newest recorded request, and false when there is none.
func (s *Server) LastRequest() (Recorded, bool) {
	st := &s.stats
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.recorded) == 0 {
		return Recorded{}, false
	}
	i := st.next - 1
	if i < 0 {
		i = len(st.recorded) - 1
	}
	return st.recorded[i], true
}

// Count returns how many requests s has received, whatever their outcome.
func (s *Server) Count() int64 { return s.stats.count.Load() }

// Cancelled returns how many requests ended because their client went away while the
// fake was still delaying, generating or streaming.
func (s *Server) Cancelled() int64 { return s.stats.cancelled.Load() }

// InFlight returns how many requests are being answered now.
func (s *Server) InFlight() int64 { return s.stats.inFlight.Load() }

// PeakInFlight returns the most requests that were in flight at once.
func (s *Server) PeakInFlight() int64 { return s.stats.peak.Load() }

// MaxInFlight returns the most requests carrying API key key that were in flight at
// once; key "" counts requests that carried none.
func (s *Server) MaxInFlight(key string) int64 {
	st := &s.stats
	st.mu.Lock()
	defer st.mu.Unlock()
	if kf := st.perKey[key]; kf != nil {
		return kf.max
	}
	return 0
}
