package telemetry

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// costCollector sums cost exactly, in nano-USD, and shows it in USD when scraped.
type costCollector struct {
	desc *prometheus.Desc
	sums sync.Map // [2]string{model, provider} → *atomic.Int64
}

func newCostCollector() *costCollector {
	return &costCollector{desc: prometheus.NewDesc("tollgate_cost_usd_total",
		"What requests cost, in USD, by model and provider (summed exactly in nano-USD).",
		[]string{"model", "provider"}, nil)}
}

func (c *costCollector) add(model, provider string, nano int64) {
	v, ok := c.sums.Load([2]string{model, provider})
	if !ok {
		v, _ = c.sums.LoadOrStore([2]string{model, provider}, new(atomic.Int64))
	}
	v.(*atomic.Int64).Add(nano)
}

// Describe sends the metric's description.
func (c *costCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect sends every sum.
func (c *costCollector) Collect(ch chan<- prometheus.Metric) {
	c.sums.Range(func(k, v any) bool {
		l := k.([2]string)
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue,
			float64(v.(*atomic.Int64).Load())/1e9, l[0], l[1])
		return true
	})
}

// queueCollector reports the depth of the queues registered with AddQueue.
type queueCollector struct {
	mu    sync.Mutex
	depth map[string]func() int
}

var queueDesc = prometheus.NewDesc("tollgate_queue_depth",
	"Items waiting in a background queue: spend rows, request log lines per sink, detector findings.",
	[]string{"queue"}, nil)

// AddQueue reports depth() as tollgate_queue_depth{queue=name} at every scrape. A
// second call with the same name replaces the first.
func (m *Metrics) AddQueue(name string, depth func() int) {
	q := m.queues
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.depth == nil {
		q.depth = map[string]func() int{}
	}
	q.depth[name] = depth
}

// Describe sends the metric's description.
func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDesc }

// Collect reads every queue's depth.
func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for name, depth := range q.depth {
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(depth()), name)
	}
}

// BreakerSample is the live health of one target (a deployment and an upstream model).
type BreakerSample struct {
	Provider, Model string
	// State is closed, open or half-open.
	State    string
	InFlight int64
	Keys     []KeySample
}

// KeySample is a provider key's state: active, disabled, cooldown, open or half-open.
// ID is the credential id, never the key.
type KeySample struct {
	ID, State string
}

// Breaker and key states, each reported as a 0/1 series so that every state is visible.
var (
	breakerStates = []string{"closed", "open", "half-open"}
	keyStates     = []string{"active", "disabled", "cooldown", "open", "half-open"}
)

var (
	breakerDesc = prometheus.NewDesc("tollgate_breaker_state",
		"Circuit breaker state of each target: 1 for the current state, 0 for the others.",
		[]string{"provider", "model", "state"}, nil)
	inFlightDesc = prometheus.NewDesc("tollgate_upstream_in_flight",
		"Upstream attempts in flight from this replica, by target.", []string{"provider", "model"}, nil)
	keyStateDesc = prometheus.NewDesc("tollgate_provider_key_state",
		"State of each provider key (by credential id): 1 for the current state, 0 for the others.",
		[]string{"provider", "key_id", "state"}, nil)
)

// breakerCollector reads the router's health at every scrape.
type breakerCollector struct {
	source atomic.Pointer[func() []BreakerSample]
}

// SetBreakers makes every scrape report the targets and keys source returns.
func (m *Metrics) SetBreakers(source func() []BreakerSample) { m.breakers.source.Store(&source) }

// Describe sends the metrics' descriptions.
func (b *breakerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- breakerDesc
	ch <- inFlightDesc
	ch <- keyStateDesc
}

// Collect reports each target and key once, however many routes share them.
func (b *breakerCollector) Collect(ch chan<- prometheus.Metric) {
	src := b.source.Load()
	if src == nil {
		return
	}
	targets, keys := map[[2]string]bool{}, map[[2]string]bool{}
	for _, s := range (*src)() {
		if t := [2]string{s.Provider, s.Model}; !targets[t] {
			targets[t] = true
			stateSet(ch, breakerDesc, breakerStates, s.State, s.Provider, s.Model)
			ch <- prometheus.MustNewConstMetric(inFlightDesc, prometheus.GaugeValue, float64(s.InFlight), s.Provider, s.Model)
		}
		for _, k := range s.Keys {
			if id := [2]string{s.Provider, k.ID}; !keys[id] {
				keys[id] = true
				stateSet(ch, keyStateDesc, keyStates, k.State, s.Provider, k.ID)
			}
		}
	}
}

// stateSet sends one 0/1 series per state, 1 for current.
func stateSet(ch chan<- prometheus.Metric, d *prometheus.Desc, states []string, current string, labels ...string) {
	for _, st := range states {
		v := 0.0
		if st == current {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append(labels[:len(labels):len(labels)], st)...)
	}
}
