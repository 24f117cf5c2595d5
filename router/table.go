package router

import (
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

// Credential is one provider key, opened from the vault or a config reference.
type Credential struct {
	// ID names the key in logs, health and the KeyHealth hook; it is never secret.
	ID     string
	Label  string
	Secret schema.Secret
	Weight int
}

// Deployment is a configured provider: its dialect client and its keys.
type Deployment struct {
	Name     string
	Type     string
	Provider providers.Provider
	Keys     []Credential
	// Timeout bounds one attempt's time to first byte; zero means only the request's
	// deadline does.
	Timeout time.Duration
}

// Target is one place a model can be served: a deployment and its upstream model name.
type Target struct {
	Deployment *Deployment
	Model      string
	Weight     int
	Priority   int
	// Price overrides the catalog price; nil means the PriceLookup's.
	Price *Price

	st   *targetState
	keys []*keyState // parallel to Deployment.Keys
}

// Route is a model name clients use, and how to serve it.
type Route struct {
	Name      string
	Strategy  string
	Targets   []*Target
	Fallbacks []string
	Timeout   time.Duration
	Retries   int
	// Source is "config" or "api".
	Source  string
	Created time.Time

	sel Selector
}

// Table is an immutable routing table.
type Table struct {
	routes map[string]*Route
	names  []string
}

// DefaultStreamIdle is the longest silence allowed between two chunks of a stream when
// Options.StreamIdle is zero.
const DefaultStreamIdle = 5 * time.Minute

// Options tune a router.
type Options struct {
	// DefaultTimeout is the deadline of a model without its own timeout.
	DefaultTimeout time.Duration
	// StreamIdle bounds the silence between chunks of a stream; zero means
	// DefaultStreamIdle.
	StreamIdle time.Duration
	// Breaker tunes every circuit breaker; zero fields take the defaults.
	Breaker BreakerSettings
	// Backoff tunes the wait before a retry on the same target and key.
	Backoff Backoff
	// Rand is the random source, for tests; nil means math/rand/v2's global source.
	// The router serialises its use, since a *rand.Rand is not safe for concurrent use.
	Rand *rand.Rand
	// Prices is the catalog lowest_cost consults for targets without a price override.
	Prices PriceLookup
	// KeyHealth is told about provider keys the upstream rejected; nil only logs.
	KeyHealth KeyHealth
	// Share announces breaker openings to other replicas; nil keeps them local.
	Share Share
	// Log receives key health and breaker transitions; nil discards them.
	Log *slog.Logger
}

// Router dispatches requests over the current table.
type Router struct {
	table atomic.Pointer[Table]
	opts  Options
	rand  func(n int) int
	reg   *registry
	// observer hears about attempts (SetObserver); nil when none.
	observer atomic.Pointer[observerBox]
}

// New returns a router over routes. It takes ownership of routes, as Swap does.
func New(routes []*Route, opts Options) *Router {
	if opts.DefaultTimeout <= 0 {
		opts.DefaultTimeout = 10 * time.Minute
	}
	if opts.StreamIdle <= 0 {
		opts.StreamIdle = DefaultStreamIdle
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	opts.Breaker = opts.Breaker.withDefaults()
	opts.Backoff = opts.Backoff.withDefaults()
	r := &Router{opts: opts, rand: rand.IntN}
	if opts.Rand != nil {
		var mu sync.Mutex
		r.rand = func(n int) int {
			mu.Lock()
			defer mu.Unlock()
			return opts.Rand.IntN(n)
		}
	}
	r.reg = newRegistry(r)
	r.table.Store(r.build(routes))
	return r
}

// Swap replaces the routing table; requests in flight keep the table they started with.
// Health (breakers, latency, key state) carries over for targets and keys that stay.
// Swap takes ownership of the routes and their targets: do not reuse them afterwards.
func (r *Router) Swap(routes []*Route) { r.table.Store(r.build(routes)) }

// build attaches health and a selector to every route and indexes them.
func (r *Router) build(routes []*Route) *Table {
	t := &Table{routes: make(map[string]*Route, len(routes))}
	r.reg.attach(routes)
	for _, rt := range routes {
		rt.sel = newSelector(rt.Strategy, r.opts.Prices)
		t.routes[rt.Name] = rt
		t.names = append(t.names, rt.Name)
	}
	sort.Strings(t.names)
	return t
}

// Lookup returns the route for a model name.
func (r *Router) Lookup(name string) (*Route, bool) {
	rt, ok := r.table.Load().routes[name]
	return rt, ok
}

// Routes returns every route, sorted by name.
func (r *Router) Routes() []*Route {
	t := r.table.Load()
	out := make([]*Route, len(t.names))
	for i, n := range t.names {
		out[i] = t.routes[n]
	}
	return out
}

func (r *Router) timeout(rt *Route) time.Duration {
	if rt.Timeout > 0 {
		return rt.Timeout
	}
	return r.opts.DefaultTimeout
}
