package router

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// KeyHealth is told when an upstream rejected a provider key (401 or 403), once per key.
// The app wires it to the provider key store and the audit log.
type KeyHealth interface {
	Disable(ctx context.Context, deployment, credentialID string, status int)
}

// Smoothing of the moving averages: latency follows recent answers closely, the error
// rate over roughly the last fifty outcomes.
const (
	latencyAlpha = 0.2
	errorAlpha   = 0.02
)

// targetState is the live health of one target (deployment + upstream model), shared by
// every route that uses it and kept across table swaps.
type targetState struct {
	id       string
	br       *breaker
	inFlight atomic.Int64
	// ewma is the moving average of time to first byte, in ns; zero means no sample.
	ewma atomic.Int64
	// errRate holds the float64 bits of the moving average of failures (0..1).
	errRate            atomic.Uint64
	requests, failures atomic.Int64
}

func (t *targetState) observeLatency(d time.Duration) {
	for {
		old := t.ewma.Load()
		next := int64(d)
		if old != 0 {
			next = old + int64(latencyAlpha*float64(int64(d)-old))
		}
		if t.ewma.CompareAndSwap(old, max(next, 1)) {
			return
		}
	}
}

// observe records a counted outcome.
func (t *targetState) observe(failed bool) {
	t.requests.Add(1)
	x := 0.0
	if failed {
		t.failures.Add(1)
		x = 1
	}
	for {
		old := t.errRate.Load()
		f := math.Float64frombits(old)
		if t.errRate.CompareAndSwap(old, math.Float64bits(f+errorAlpha*(x-f))) {
			return
		}
	}
}

// keyState is the live health of one provider key.
type keyState struct {
	deployment, credID string
	br                 *breaker
	disabled           atomic.Bool
	// cooldownUntil is when a 429's cooldown ends (Unix ns).
	cooldownUntil atomic.Int64
}

// ready reports whether the key may be used at now.
func (k *keyState) ready(now int64) bool {
	return !k.disabled.Load() && k.cooldownUntil.Load() <= now && k.br.available(now)
}

// coolUntil returns when a key that is only cooling down will be ready, or false when
// it is ready now or unusable.
func (k *keyState) coolUntil(now int64) (int64, bool) {
	until := k.cooldownUntil.Load()
	return until, until > now && !k.disabled.Load() && k.br.available(now)
}

// registry keeps health by identity across table swaps, and finds breakers by id for
// announcements from other replicas.
type registry struct {
	r        *Router
	mu       sync.Mutex
	targets  map[string]*targetState
	keys     map[string]*keyState
	breakers map[string]*breaker
}

func newRegistry(r *Router) *registry {
	return &registry{r: r, targets: map[string]*targetState{}, keys: map[string]*keyState{},
		breakers: map[string]*breaker{}}
}

// attach gives every target of routes its health, creating what is new and forgetting
// what no route uses any more. Targets without a deployment are dropped.
func (g *registry) attach(routes []*Route) {
	g.mu.Lock()
	defer g.mu.Unlock()
	targets := make(map[string]*targetState, len(g.targets))
	keys := make(map[string]*keyState, len(g.keys))
	for _, rt := range routes {
		kept := rt.Targets[:0:0]
		for _, t := range rt.Targets {
			if t.Deployment == nil {
				continue
			}
			id := "target:" + t.Deployment.Name + "/" + t.Model
			t.st = g.target(id, targets)
			t.keys = make([]*keyState, len(t.Deployment.Keys))
			for i, c := range t.Deployment.Keys {
				t.keys[i] = g.key(t.Deployment.Name, c, keys)
			}
			kept = append(kept, t)
		}
		rt.Targets = kept
	}
	g.targets, g.keys = targets, keys
	g.breakers = make(map[string]*breaker, len(targets)+len(keys))
	for _, t := range targets {
		g.breakers[t.br.id] = t.br
	}
	for _, k := range keys {
		g.breakers[k.br.id] = k.br
	}
}

func (g *registry) target(id string, into map[string]*targetState) *targetState {
	st := into[id]
	if st == nil {
		if st = g.targets[id]; st == nil {
			st = &targetState{id: id, br: newBreaker(id, g.r.opts.Breaker, g.r.changed)}
		}
		into[id] = st
	}
	return st
}

func (g *registry) key(deployment string, c Credential, into map[string]*keyState) *keyState {
	id := "key:" + deployment + "/" + c.ID
	k := into[id]
	if k == nil {
		if k = g.keys[id]; k == nil {
			k = &keyState{deployment: deployment, credID: c.ID, br: newBreaker(id, g.r.opts.Breaker, g.r.changed)}
		}
		into[id] = k
	}
	return k
}

func (g *registry) breaker(id string) *breaker {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.breakers[id]
}

// changed logs a breaker transition and announces openings and closings to the other
// replicas. It runs under gobreaker's lock and must not block.
func (r *Router) changed(b *breaker, to gobreaker.State) {
	r.opts.Log.Info("circuit breaker "+to.String(), "breaker", b.id)
	if r.opts.Share == nil {
		return
	}
	switch to {
	case gobreaker.StateOpen:
		r.opts.Share.Announce(b.id, true, r.opts.Breaker.OpenTimeout)
	case gobreaker.StateClosed:
		r.opts.Share.Announce(b.id, false, 0)
	}
}
