package billing

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tollgate-llm/tollgate/configs"
)

// catalogProviders are the provider names a catalog entry may have.
var catalogProviders = []string{"openai", "anthropic", "gemini", "mistral", "deepseek", "xai",
	"groq", "cohere", "bedrock"}

// Entry is one model of the catalog.
type Entry struct {
	ID       string
	Provider string
	Aliases  []string
	// Price is the entry's resolved price, Known and versioned.
	Price Price
	// AsOf is the date of the source the prices were read from; Source names it.
	AsOf   time.Time
	Source string
	// raw keeps which prices were written, for overrides to layer on.
	raw rawRates
}

// Catalog is the pricing catalog: an ordered list of entries and an index by name.
// It is read-only after ParseCatalog and safe for concurrent use.
type Catalog struct {
	entries []Entry
	byName  map[string][]int
	// lookups caches Lookup's answers by provider and model (entry index or -1).
	lookups sync.Map
	cached  atomic.Int64
}

// DefaultCatalog parses the catalog built into the binary (configs/pricing.yaml).
func DefaultCatalog() (*Catalog, error) {
	return ParseCatalog([]byte(configs.PricingYAML))
}

// decimalText is a YAML scalar kept exactly as written, so that "2.50" never becomes a
// float on its way to ParseUSD.
type decimalText struct {
	text string
	set  bool
}

// UnmarshalYAML keeps the scalar's text.
func (d *decimalText) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a decimal price", n.Line)
	}
	d.text, d.set = n.Value, true
	return nil
}

// yamlRates are the price fields shared by an entry and its long-context band.
type yamlRates struct {
	Input       decimalText `yaml:"input"`
	CachedInput decimalText `yaml:"cached_input"`
	CacheWrite  decimalText `yaml:"cache_write"`
	Output      decimalText `yaml:"output"`
	Reasoning   decimalText `yaml:"reasoning"`
}

// yamlEntry is one entry as written in pricing.yaml.
type yamlEntry struct {
	ID              string   `yaml:"id"`
	Provider        string   `yaml:"provider"`
	Aliases         []string `yaml:"aliases"`
	yamlRates       `yaml:",inline"`
	LongContext     *yamlTier `yaml:"long_context"`
	MaxOutputTokens *int64    `yaml:"max_output_tokens"`
	Version         int       `yaml:"version"`
	AsOf            string    `yaml:"as_of"`
	Source          string    `yaml:"source"`
}

// yamlTier is a long-context band as written.
type yamlTier struct {
	Above     int64 `yaml:"above"`
	yamlRates `yaml:",inline"`
}

// yamlCatalog is the whole file.
type yamlCatalog struct {
	Schema int         `yaml:"schema"`
	Models []yamlEntry `yaml:"models"`
}

// ParseCatalog reads a catalog in the pricing.yaml format, strictly: unknown fields,
// missing prices, versions, dates or sources, unknown providers and duplicate names are
// errors naming the entry.
func ParseCatalog(data []byte) (*Catalog, error) {
	var doc yamlCatalog
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("pricing catalog: %w", err)
	}
	if doc.Schema != 1 {
		return nil, fmt.Errorf("pricing catalog: schema %d is not supported (want 1)", doc.Schema)
	}
	c := &Catalog{byName: map[string][]int{}}
	var errs []error
	for i, y := range doc.Models {
		e, err := y.entry()
		if err != nil {
			errs = append(errs, fmt.Errorf("pricing catalog: models[%d] (%s): %w", i, y.ID, err))
			continue
		}
		if err := c.add(e); err != nil {
			errs = append(errs, fmt.Errorf("pricing catalog: models[%d]: %w", i, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// add indexes e under its id and aliases.
func (c *Catalog) add(e Entry) error {
	idx := len(c.entries)
	for _, name := range append([]string{e.ID}, e.Aliases...) {
		key := strings.ToLower(name)
		for _, j := range c.byName[key] {
			if c.entries[j].Provider == e.Provider {
				return fmt.Errorf("%s/%s is listed twice", e.Provider, name)
			}
		}
		c.byName[key] = append(c.byName[key], idx)
	}
	c.entries = append(c.entries, e)
	return nil
}

// entry checks y and resolves its prices.
func (y yamlEntry) entry() (Entry, error) {
	switch {
	case y.ID == "":
		return Entry{}, errors.New("id is empty")
	case !slices.Contains(catalogProviders, y.Provider):
		return Entry{}, fmt.Errorf("provider %q is not one of %v", y.Provider, catalogProviders)
	case y.Version < 1:
		return Entry{}, errors.New("version must be 1 or more")
	case y.Source == "":
		return Entry{}, errors.New("source is empty")
	case y.MaxOutputTokens == nil || *y.MaxOutputTokens < 0:
		return Entry{}, errors.New("max_output_tokens is missing or negative")
	case !y.Input.set || !y.Output.set:
		return Entry{}, errors.New("input and output prices are required")
	}
	asOf, err := time.Parse(time.DateOnly, y.AsOf)
	if err != nil {
		return Entry{}, fmt.Errorf("as_of %q: want YYYY-MM-DD", y.AsOf)
	}
	raw, err := y.yamlRates.parse()
	if err != nil {
		return Entry{}, err
	}
	p := Price{Provider: y.Provider, Model: y.ID, Known: true, Rates: raw.resolve(),
		Version: y.Provider + "/" + y.ID + "@" + strconv.Itoa(y.Version), MaxOutputTokens: *y.MaxOutputTokens}
	if t := y.LongContext; t != nil {
		tr, err := t.yamlRates.parse()
		if err != nil {
			return Entry{}, fmt.Errorf("long_context: %w", err)
		}
		if t.Above <= 0 || !tr.input.set || !tr.output.set {
			return Entry{}, errors.New("long_context needs above > 0, input and output")
		}
		p.LongContext = &Tier{Above: t.Above, Rates: tr.resolve()}
	}
	return Entry{ID: y.ID, Provider: y.Provider, Aliases: y.Aliases, Price: p, AsOf: asOf,
		Source: y.Source, raw: raw}, nil
}

// parse reads the prices that are written.
func (y yamlRates) parse() (rawRates, error) {
	var r rawRates
	for _, f := range []struct {
		name string
		in   decimalText
		dst  *optional
	}{
		{"input", y.Input, &r.input}, {"cached_input", y.CachedInput, &r.cachedInput},
		{"cache_write", y.CacheWrite, &r.cacheWrite}, {"output", y.Output, &r.output},
		{"reasoning", y.Reasoning, &r.reasoning},
	} {
		if !f.in.set {
			continue
		}
		v, err := ParseUSD(f.in.text)
		if err != nil {
			return r, fmt.Errorf("%s: %w", f.name, err)
		}
		*f.dst = optional{v: v, set: true}
	}
	return r, nil
}

// Entries returns the catalog's entries in file order.
func (c *Catalog) Entries() []Entry { return slices.Clone(c.entries) }

// Price returns the price of model served by provider (a tollgate provider type such as
// "openai", "azure" or "groq"), after the config overrides, lowest precedence first:
// the route's pricing, then the target's. A model neither the catalog nor an override
// prices is Unpriced, with no error: its cost is recorded as zero and flagged by its
// version. Only a malformed override is an error.
func (c *Catalog) Price(provider, model string, overrides ...*configs.Pricing) (Price, error) {
	var e *Entry
	if found, ok := c.Lookup(provider, model); ok {
		e = &found
	}
	return withOverrides(e, overrides)
}

// MaxOutputTokens returns the model's output limit from the catalog, for providers that
// need a max_tokens default (Anthropic) and for worst-case reservations.
func (c *Catalog) MaxOutputTokens(provider, model string) (int64, bool) {
	e, ok := c.Lookup(provider, model)
	if !ok || e.Price.MaxOutputTokens == 0 {
		return 0, false
	}
	return e.Price.MaxOutputTokens, true
}
