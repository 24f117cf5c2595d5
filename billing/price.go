package billing

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/tollgate-llm/tollgate/configs"
)

// Rates are the prices of one million tokens of each kind, in Money. Every field is
// resolved: a model without a cache discount has CachedInput equal to Input, one without
// a separate reasoning price has Reasoning equal to Output.
type Rates struct {
	Input       Money `json:"input"`
	CachedInput Money `json:"cached_input"`
	CacheWrite  Money `json:"cache_write"`
	Output      Money `json:"output"`
	Reasoning   Money `json:"reasoning"`
}

// Tier is a long-context band: a request whose prompt has more than Above tokens is
// priced entirely at Rates.
type Tier struct {
	Above int64 `json:"above"`
	Rates
}

// Price is what a request to one upstream model costs, ready to apply to usage.
type Price struct {
	// Provider and Model name the catalog entry; both are empty for a price that comes
	// only from a config override.
	Provider string `json:"provider,omitempty"`
	Model    string `json:"model,omitempty"`
	// Version is recorded on every spend row: "<provider>/<id>@<n>" for a catalog price,
	// "override@<hash>" for a price changed by config, "unpriced" when nothing is known.
	Version string `json:"version"`
	// Known is false for a model that neither the catalog nor config prices: its cost is
	// recorded as zero.
	Known bool `json:"known"`
	Rates
	LongContext *Tier `json:"long_context,omitempty"`
	// MaxOutputTokens is the model's output limit, zero when unknown.
	MaxOutputTokens int64 `json:"max_output_tokens"`
}

// VersionUnpriced is the price version of a model nobody priced.
const VersionUnpriced = "unpriced"

// Unpriced is the price of a model that neither the catalog nor config knows.
var Unpriced = Price{Version: VersionUnpriced}

// rates returns the rates that apply to a request with promptTokens of prompt.
func (p *Price) rates(promptTokens int64) Rates {
	if p.LongContext != nil && promptTokens > p.LongContext.Above {
		return p.LongContext.Rates
	}
	return p.Rates
}

// optional is a price that may be absent.
type optional struct {
	v   Money
	set bool
}

// or returns o's value when set, else def.
func (o optional) or(def Money) Money {
	if o.set {
		return o.v
	}
	return def
}

// rawRates are rates as written: any of them may be absent.
type rawRates struct {
	input, cachedInput, cacheWrite, output, reasoning optional
}

// resolve fills the absent rates: cached input and cache writes cost as much as input,
// reasoning as much as output.
func (r rawRates) resolve() Rates {
	in, out := r.input.or(0), r.output.or(0)
	return Rates{Input: in, CachedInput: r.cachedInput.or(in), CacheWrite: r.cacheWrite.or(in),
		Output: out, Reasoning: r.reasoning.or(out)}
}

// overlay returns r with the rates that o sets replacing its own.
func (r rawRates) overlay(o rawRates) rawRates {
	pick := func(a, b optional) optional {
		if b.set {
			return b
		}
		return a
	}
	return rawRates{input: pick(r.input, o.input), cachedInput: pick(r.cachedInput, o.cachedInput),
		cacheWrite: pick(r.cacheWrite, o.cacheWrite), output: pick(r.output, o.output),
		reasoning: pick(r.reasoning, o.reasoning)}
}

// parseOverride reads a config pricing override; empty fields stay absent.
func parseOverride(p *configs.Pricing) (rawRates, error) {
	var r rawRates
	for _, f := range []struct {
		name string
		text string
		dst  *optional
	}{
		{"input_per_mtok", p.InputPerMTok, &r.input},
		{"output_per_mtok", p.OutputPerMTok, &r.output},
		{"cached_input_per_mtok", p.CachedInputPerMTok, &r.cachedInput},
		{"cache_write_per_mtok", p.CacheWritePerMTok, &r.cacheWrite},
	} {
		if f.text == "" {
			continue
		}
		v, err := ParseUSD(f.text)
		if err != nil {
			return r, fmt.Errorf("pricing.%s: %w", f.name, err)
		}
		*f.dst = optional{v: v, set: true}
	}
	return r, nil
}

// withOverrides applies config overrides, lowest precedence first (the model's, then
// the target's), to the catalog entry e (nil when the catalog does not know the model).
// An override that sets any price drops the catalog's long-context band, since the
// band's numbers belong to the catalog's price.
func withOverrides(e *Entry, overrides []*configs.Pricing) (Price, error) {
	var base rawRates
	price := Unpriced
	if e != nil {
		base, price = e.raw, e.Price
	}
	changed := false
	for _, o := range overrides {
		if o == nil {
			continue
		}
		r, err := parseOverride(o)
		if err != nil {
			return Unpriced, err
		}
		if r != (rawRates{}) {
			base, changed = base.overlay(r), true
		}
	}
	if !changed {
		return price, nil
	}
	price.Rates = base.resolve()
	price.LongContext = nil
	price.Known = true
	price.Version = overrideVersion(price.Rates)
	return price, nil
}

// overrideVersion names a config price by a hash of its rates, so that every replica
// records the same version for the same prices, and a changed override a new one.
func overrideVersion(r Rates) string {
	text := r.Input.Decimal() + "|" + r.CachedInput.Decimal() + "|" + r.CacheWrite.Decimal() +
		"|" + r.Output.Decimal() + "|" + r.Reasoning.Decimal()
	sum := sha256.Sum256([]byte(text))
	return "override@" + hex.EncodeToString(sum[:4])
}
