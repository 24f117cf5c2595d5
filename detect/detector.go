package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Finding kinds.
const (
	KindVolumeSpike = "volume_spike"
	KindErrorBurst  = "error_burst"
	KindIPSpread    = "ip_spread"
	KindNewNetwork  = "new_network"
	KindNewModel    = "new_model"
)

// Severities, lowest first.
const (
	SeverityLow    = "low"
	SeverityMedium = "medium"
	SeverityHigh   = "high"
)

// Severities lists the severities from lowest to highest.
var Severities = []string{SeverityLow, SeverityMedium, SeverityHigh}

// Observation is one finished request of a key, as the detectors see it.
type Observation struct {
	Time           time.Time
	KeyID, Project string
	// Model is the model the request used; first-seen models are only learned from
	// requests that succeeded.
	Model    string
	SourceIP netip.Addr
	Tokens   int64
	CostNano int64
	// Error is true for a failure of the key's own making (a 4xx answer).
	Error bool
}

// Finding is one anomaly.
type Finding struct {
	// ID is derived from the key, the kind and the window, so the same finding is
	// stored once.
	ID             string
	Time           time.Time
	KeyID, Project string
	Kind, Severity string
	// Score is the z-score of the most surprising signal; zero for first-seen signals.
	Score       float64
	WindowStart time.Time
	Summary     string
	Details     map[string]any
}

// Detector keeps a baseline per key and scores each minute against it. It is a pure
// function of the observations and the times passed to Observe and Advance: it reads
// no clock, so fixtures replay deterministically. It is safe for concurrent use.
type Detector struct {
	cfg  Config
	mu   sync.Mutex
	keys *lru[string, *keyState]
}

// keyState is one key's baselines, current window and first-seen sets.
type keyState struct {
	id, project string
	window      int64 // index of the current window
	cur         windowAcc
	base        [nSignals]baseline
	// sq are the baselines of the sums of squared tokens and cost per window: a
	// compound Poisson sum's variance, which floors the variance of tokens and cost.
	sq [2]baseline
	// sumsHigh is set after a window whose tokens or cost, but not requests, were
	// anomalous: such a spike is raised only when it lasts a second window.
	sumsHigh bool
	// active counts the closed windows in which the key made requests: scoring starts
	// once it reaches Config.Warmup.
	active   int
	networks *lru[netip.Prefix, struct{}]
	models   *lru[string, struct{}]
	// wide is set once the key was seen from MaxNetworks networks: new networks then
	// say nothing.
	wide bool
	// last is when each kind was last raised, for the cooldown.
	last map[string]time.Time
}

// windowAcc accumulates a window.
type windowAcc struct {
	requests, tokens, cost, errors int64
	tokSq, costSq                  float64
	ips                            map[netip.Addr]struct{}
}

// New returns a detector; zero fields of cfg take the defaults.
func New(cfg Config) *Detector {
	cfg.setDefaults()
	return &Detector{cfg: cfg, keys: newLRU[string, *keyState](cfg.MaxKeys)}
}

func (d *Detector) index(t time.Time) int64 { return t.UnixNano() / int64(d.cfg.Window) }

func (d *Detector) start(idx int64) time.Time { return time.Unix(0, idx*int64(d.cfg.Window)).UTC() }

// Observe adds one request. Windows of the key that ended before it are closed and
// scored first, and a first-seen network or model is reported at once.
func (d *Detector) Observe(o Observation) []Finding {
	if o.KeyID == "" {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	idx := d.index(o.Time)
	st, ok := d.keys.get(o.KeyID)
	if !ok {
		st = &keyState{id: o.KeyID, window: idx, networks: newLRU[netip.Prefix, struct{}](d.cfg.MaxNetworks),
			models: newLRU[string, struct{}](d.cfg.MaxModels), last: map[string]time.Time{}}
		d.keys.put(o.KeyID, st)
	}
	st.project = o.Project
	out := d.closeUntil(st, idx)
	st.cur.add(o, d.cfg.MaxIPsPerWindow)
	return append(out, d.firstSeen(st, o)...)
}

// Advance closes and scores every window that ended at or before now.
func (d *Detector) Advance(now time.Time) []Finding {
	d.mu.Lock()
	defer d.mu.Unlock()
	idx := d.index(now)
	var out []Finding
	d.keys.each(func(_ string, st *keyState) { out = append(out, d.closeUntil(st, idx)...) })
	return out
}

func (w *windowAcc) add(o Observation, maxIPs int) {
	w.requests++
	w.tokens += o.Tokens
	w.cost += o.CostNano
	w.tokSq += float64(o.Tokens) * float64(o.Tokens)
	w.costSq += float64(o.CostNano) * float64(o.CostNano)
	if o.Error {
		w.errors++
	}
	if !o.SourceIP.IsValid() {
		return
	}
	if w.ips == nil {
		w.ips = map[netip.Addr]struct{}{}
	}
	if len(w.ips) < maxIPs {
		w.ips[o.SourceIP] = struct{}{}
	}
}

// closeUntil closes the key's windows before idx: the current one, then the empty ones
// in between (after emptyWindowsCap of them the baselines have decayed to nothing that
// more would change).
func (d *Detector) closeUntil(st *keyState, idx int64) []Finding {
	if idx <= st.window {
		return nil
	}
	out := d.close(st)
	for n := st.window + 1; n < idx && n-st.window <= emptyWindowsCap; n++ {
		d.close(st)
	}
	st.window = idx
	return out
}

// emptyWindowsCap bounds the empty windows replayed for a key that was idle.
const emptyWindowsCap = 600

// close scores the current window (once the key is warm), folds it into the baselines
// and starts the next one.
func (d *Detector) close(st *keyState) []Finding {
	w := st.cur
	st.cur = windowAcc{}
	x := [nSignals]float64{float64(w.requests), float64(w.tokens), float64(w.cost), 0, float64(len(w.ips))}
	if w.requests > 0 {
		x[sigErrorRatio] = float64(w.errors) / float64(w.requests)
	}
	var out []Finding
	warm := st.active >= d.cfg.Warmup
	if warm && w.requests > 0 {
		out = d.score(st, w, x, d.start(st.window))
	}
	for sig := range nSignals {
		if sig == sigErrorRatio && w.requests == 0 {
			continue // a ratio needs requests to mean anything
		}
		b := &st.base[sig]
		v := x[sig]
		if warm {
			// A value beyond Z deviations counts as Z deviations (winsorising), so
			// that a burst barely moves the baseline while a lasting change is
			// still learned, a step at a time.
			v = min(v, b.mean+d.cfg.Z*math.Sqrt(max(b.variance, st.floor(sig, x[sigRequests]))))
		}
		b.update(v, d.cfg.Alpha)
	}
	st.sq[0].update(w.tokSq, d.cfg.Alpha)
	st.sq[1].update(w.costSq, d.cfg.Alpha)
	if w.requests > 0 {
		st.active++
	}
	return out
}

// raise returns f when its kind is out of its cooldown for the key, and starts the
// cooldown.
func (d *Detector) raise(st *keyState, f Finding) []Finding {
	if last, ok := st.last[f.Kind]; ok && f.Time.Sub(last) < d.cfg.Cooldown {
		return nil
	}
	st.last[f.Kind] = f.Time
	f.KeyID, f.Project = st.id, st.project
	sum := sha256.Sum256([]byte(st.id + "|" + f.Kind + "|" + strconv.FormatInt(f.WindowStart.UnixNano(), 10)))
	f.ID = "anom_" + hex.EncodeToString(sum[:10])
	return []Finding{f}
}
