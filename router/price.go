package router

import "math"

// Price is what a target costs, in nano-USD per million tokens.
type Price struct {
	InputPerMTok  int64
	OutputPerMTok int64
}

// PriceLookup finds the catalog price of an upstream model; billing's catalog
// implements it. providerType is the deployment's type ("openai", "groq", ...).
type PriceLookup interface {
	Price(providerType, model string) (Price, bool)
}

// rank is the price lowest_cost orders by: input plus output per million tokens.
func (p Price) rank() int64 {
	if p.InputPerMTok > math.MaxInt64-p.OutputPerMTok {
		return math.MaxInt64
	}
	return p.InputPerMTok + p.OutputPerMTok
}

// cost returns the target's rank for lowest_cost: its override, else the catalog's,
// else the highest possible, so that unknown prices come last.
func (t *Target) cost(prices PriceLookup) int64 {
	if t.Price != nil {
		return t.Price.rank()
	}
	if prices != nil && t.Deployment != nil {
		if p, ok := prices.Price(t.Deployment.Type, t.Model); ok {
			return p.rank()
		}
	}
	return math.MaxInt64
}
