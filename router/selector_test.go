package router

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// spec describes one target of a distribution case.
type spec struct {
	weight, priority int
	latency          time.Duration
	inFlight         int64
	price            *Price // override
	catalog          *Price // what the PriceLookup says
	open             bool   // its breaker is open
}

type catalog map[string]Price

func (c catalog) Price(_, model string) (Price, bool) { p, ok := c[model]; return p, ok }

func usd(in, out int64) *Price { return &Price{InputPerMTok: in * 1e9, OutputPerMTok: out * 1e9} }

// newDistRouter builds a router with one model whose targets follow specs.
func newDistRouter(t *testing.T, strategy string, specs []spec, seed uint64) (*Router, *Route) {
	t.Helper()
	cat := catalog{}
	rt := &Route{Name: "m", Strategy: strategy}
	for i, s := range specs {
		model := "model-" + strconv.Itoa(i)
		d := &Deployment{Name: "p" + strconv.Itoa(i), Type: "openai", Keys: []Credential{{ID: "k", Weight: 1}}}
		rt.Targets = append(rt.Targets, &Target{Deployment: d, Model: model, Weight: s.weight, Priority: s.priority, Price: s.price})
		if s.catalog != nil {
			cat[model] = *s.catalog
		}
	}
	r := New([]*Route{rt}, Options{Rand: rand.New(rand.NewPCG(seed, 7)), Prices: cat})
	for i, s := range specs {
		st := rt.Targets[i].st
		st.ewma.Store(int64(s.latency))
		st.inFlight.Store(s.inFlight)
		if s.open {
			for range r.opts.Breaker.ConsecutiveFailures {
				done, ok := st.br.allow()
				if !ok {
					t.Fatal("breaker refused before opening")
				}
				done(errCounted)
			}
		}
	}
	return r, rt
}

// TestSelectorDistribution picks 10,000 times from each policy with a seeded random
// source and checks every target's share is within 5% of the policy's target share.
func TestSelectorDistribution(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name     string
		strategy string
		specs    []spec
		want     []float64
	}{
		{"weighted 1:2:7", "weighted", []spec{{weight: 1}, {weight: 2}, {weight: 7}}, []float64{.1, .2, .7}},
		{"weighted is the default", "", []spec{{weight: 3}, {weight: 1}}, []float64{.75, .25}},
		{"weighted skips an open breaker", "weighted", []spec{{weight: 1}, {weight: 1, open: true}, {weight: 3}}, []float64{.25, 0, .75}},
		{"round_robin", "round_robin", []spec{{weight: 1}, {weight: 5}, {weight: 1}}, []float64{1. / 3, 1. / 3, 1. / 3}},
		{"least_latency power of two choices", "least_latency",
			[]spec{{latency: 300 * ms}, {latency: 100 * ms}, {latency: 200 * ms}}, []float64{0, 2. / 3, 1. / 3}},
		{"least_latency measures a new target", "least_latency",
			[]spec{{latency: 100 * ms}, {latency: 0}}, []float64{0, 1}},
		{"least_busy", "least_busy", []spec{{inFlight: 4, weight: 1}, {inFlight: 1, weight: 1}, {inFlight: 1, weight: 3}},
			[]float64{0, .25, .75}},
		{"lowest_cost overrides", "lowest_cost", []spec{{price: usd(5, 15)}, {price: usd(1, 2)}, {price: usd(2, 2)}},
			[]float64{0, 1, 0}},
		{"lowest_cost catalog and ties by weight", "lowest_cost",
			[]spec{{catalog: usd(1, 1), weight: 1}, {price: usd(1, 1), weight: 3}, {}}, []float64{.25, .75, 0}},
		{"lowest_cost skips the cheapest when open", "lowest_cost",
			[]spec{{price: usd(1, 1), open: true}, {price: usd(2, 2)}, {price: usd(3, 3)}}, []float64{0, 1, 0}},
		{"priority", "priority", []spec{{priority: 1, weight: 1}, {priority: 0, weight: 1}, {priority: 0, weight: 4}},
			[]float64{0, .2, .8}},
		{"priority next tier only when none healthy", "priority",
			[]spec{{priority: 1, weight: 1}, {priority: 0, open: true}, {priority: 2}}, []float64{1, 0, 0}},
	}
	const n = 10000
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, rt := newDistRouter(t, tc.strategy, tc.specs, 42)
			counts := make(map[*Target]int)
			for range n {
				c := r.newCall(t.Context(), time.Minute)
				tg, _, _ := c.choose(rt, time.Now().UnixNano())
				if tg == nil {
					t.Fatal("no target chosen")
				}
				counts[tg]++
			}
			for i, w := range tc.want {
				got := counts[rt.Targets[i]]
				want := w * n
				if math.Abs(float64(got)-want) > 0.05*want || (w == 0 && got != 0) {
					t.Errorf("target %d: picked %d of %d times, want %.0f ±5%%", i, got, n, want)
				}
			}
		})
	}
}

// TestNoHealthyTarget checks that a model whose every breaker is open has no candidate.
func TestNoHealthyTarget(t *testing.T) {
	r, rt := newDistRouter(t, "weighted", []spec{{open: true}, {open: true}}, 1)
	c := r.newCall(t.Context(), time.Minute)
	if tg, _, _ := c.choose(rt, time.Now().UnixNano()); tg != nil {
		t.Fatalf("chose %s with every breaker open", tg.Deployment.Name)
	}
	if c.retryAt == 0 {
		t.Fatal("no retry time noted for the open breakers")
	}
}
