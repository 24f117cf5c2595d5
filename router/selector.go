package router

import (
	"sync/atomic"

	"github.com/tollgate-llm/tollgate/configs"
)

// Selector chooses one target among a model's healthy candidates: the selection
// policy named by the model's strategy.
type Selector interface {
	// Pick returns one of cands, which is never empty. rnd(n) returns a uniform random
	// int in [0, n).
	Pick(cands []*Target, rnd func(n int) int) *Target
}

var (
	_ Selector = weighted{}
	_ Selector = (*roundRobin)(nil)
	_ Selector = leastLatency{}
	_ Selector = leastBusy{}
	_ Selector = lowestCost{}
	_ Selector = priority{}
)

// newSelector returns the policy for a strategy; unknown and empty mean weighted.
func newSelector(strategy string, prices PriceLookup) Selector {
	switch strategy {
	case configs.StrategyRoundRobin:
		return &roundRobin{}
	case configs.StrategyLeastLatency:
		return leastLatency{}
	case configs.StrategyLeastBusy:
		return leastBusy{}
	case configs.StrategyLowestCost:
		return lowestCost{prices: prices}
	case configs.StrategyPriority:
		return priority{}
	}
	return weighted{}
}

// weightOf is a target's weight; zero and below mean 1, as in the config.
func weightOf(t *Target) int { return max(t.Weight, 1) }

// pickWeighted picks among the candidates for which in is true, by weight.
func pickWeighted(cands []*Target, rnd func(int) int, in func(*Target) bool) *Target {
	total := 0
	for _, t := range cands {
		if in(t) {
			total += weightOf(t)
		}
	}
	if total == 0 { // in changed under us (in-flight counts move); any will do
		return cands[0]
	}
	x := rnd(total)
	for _, t := range cands {
		if !in(t) {
			continue
		}
		if x -= weightOf(t); x < 0 {
			return t
		}
	}
	return cands[0]
}

func all(*Target) bool { return true }

// weighted picks at random with probability weight/total.
type weighted struct{}

func (weighted) Pick(cands []*Target, rnd func(int) int) *Target {
	if len(cands) == 1 {
		return cands[0]
	}
	return pickWeighted(cands, rnd, all)
}

// roundRobin takes the candidates in turn.
type roundRobin struct{ next atomic.Uint64 }

func (s *roundRobin) Pick(cands []*Target, _ func(int) int) *Target {
	n := s.next.Add(1) - 1
	return cands[n%uint64(len(cands))]
}

// leastLatency is the power of two choices over the latency average: of two distinct
// random candidates, the one with the lower average (no sample counts as lowest).
type leastLatency struct{}

func (leastLatency) Pick(cands []*Target, rnd func(int) int) *Target {
	n := len(cands)
	if n == 1 {
		return cands[0]
	}
	i := rnd(n)
	j := rnd(n - 1)
	if j >= i {
		j++
	}
	a, b := cands[i], cands[j]
	if b.st.ewma.Load() < a.st.ewma.Load() {
		return b
	}
	return a
}

// leastBusy picks the fewest attempts in flight, ties by weight.
type leastBusy struct{}

func (leastBusy) Pick(cands []*Target, rnd func(int) int) *Target {
	low := cands[0].st.inFlight.Load()
	for _, t := range cands[1:] {
		low = min(low, t.st.inFlight.Load())
	}
	return pickWeighted(cands, rnd, func(t *Target) bool { return t.st.inFlight.Load() == low })
}

// lowestCost picks the cheapest, ties by weight.
type lowestCost struct{ prices PriceLookup }

func (s lowestCost) Pick(cands []*Target, rnd func(int) int) *Target {
	low := cands[0].cost(s.prices)
	for _, t := range cands[1:] {
		low = min(low, t.cost(s.prices))
	}
	return pickWeighted(cands, rnd, func(t *Target) bool { return t.cost(s.prices) == low })
}

// priority picks the lowest priority number, ties by weight.
type priority struct{}

func (priority) Pick(cands []*Target, rnd func(int) int) *Target {
	low := cands[0].Priority
	for _, t := range cands[1:] {
		low = min(low, t.Priority)
	}
	return pickWeighted(cands, rnd, func(t *Target) bool { return t.Priority == low })
}
