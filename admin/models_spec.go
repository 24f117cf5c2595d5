package admin

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/configs"
)

// ModelSpec is a model (route) as the admin API writes it and the store keeps it.
type ModelSpec struct {
	Name      string       `json:"name"`
	Strategy  string       `json:"strategy"`
	Targets   []TargetSpec `json:"targets"`
	Fallbacks []string     `json:"fallbacks"`
	// Timeout is a Go duration ("90s"); empty means the gateway's request timeout.
	Timeout string `json:"timeout,omitempty"`
	// Retries is how many more attempts the model gets after the first; nil means 2.
	Retries *int `json:"retries,omitempty"`
	// Pricing overrides the catalog for every target without its own override.
	Pricing *Pricing `json:"pricing,omitempty"`
}

// TargetSpec is one target of a model.
type TargetSpec struct {
	Provider string   `json:"provider"`
	Model    string   `json:"model"`
	Weight   int      `json:"weight"`
	Priority int      `json:"priority"`
	Pricing  *Pricing `json:"pricing,omitempty"`
}

// Pricing is a price override in USD per million tokens. Values are decimals, sent as
// JSON numbers or strings, and kept exactly as written.
type Pricing struct {
	InputPerMTok       json.Number `json:"input_per_mtok,omitempty"`
	OutputPerMTok      json.Number `json:"output_per_mtok,omitempty"`
	CachedInputPerMTok json.Number `json:"cached_input_per_mtok,omitempty"`
	CacheWritePerMTok  json.Number `json:"cache_write_per_mtok,omitempty"`
}

// ModelPatch is the body of PATCH /models/{name}: present fields replace the model's.
type ModelPatch struct {
	Name      *string       `json:"name"`
	Strategy  *string       `json:"strategy"`
	Targets   *[]TargetSpec `json:"targets"`
	Fallbacks *[]string     `json:"fallbacks"`
	Timeout   *string       `json:"timeout"`
	Retries   *int          `json:"retries"`
	Pricing   *Pricing      `json:"pricing"`
}

// apply returns spec with p's present fields.
func (p ModelPatch) apply(spec ModelSpec) (ModelSpec, error) {
	if p.Name != nil && *p.Name != spec.Name {
		return spec, apierr.InvalidValue("name", "a model cannot be renamed; create a new one and delete this one")
	}
	if p.Strategy != nil {
		spec.Strategy = *p.Strategy
	}
	if p.Targets != nil {
		spec.Targets = *p.Targets
	}
	if p.Fallbacks != nil {
		spec.Fallbacks = *p.Fallbacks
	}
	if p.Timeout != nil {
		spec.Timeout = *p.Timeout
	}
	if p.Retries != nil {
		spec.Retries = p.Retries
	}
	if p.Pricing != nil {
		spec.Pricing = p.Pricing
	}
	return spec, nil
}

// ConfigSpec is a config-file model as a spec.
func ConfigSpec(m configs.Model) ModelSpec {
	s := ModelSpec{Name: m.Name, Strategy: m.Strategy, Fallbacks: m.Fallbacks, Retries: m.Retries,
		Pricing: configPricing(m.Pricing)}
	if m.Timeout > 0 {
		s.Timeout = m.Timeout.Std().String()
	}
	for _, t := range m.Targets {
		s.Targets = append(s.Targets, TargetSpec{Provider: t.Provider, Model: t.Model, Weight: t.Weight,
			Priority: t.Priority, Pricing: configPricing(t.Pricing)})
	}
	return s.withDefaults()
}

func configPricing(p *configs.Pricing) *Pricing {
	if p == nil {
		return nil
	}
	return &Pricing{InputPerMTok: json.Number(p.InputPerMTok), OutputPerMTok: json.Number(p.OutputPerMTok),
		CachedInputPerMTok: json.Number(p.CachedInputPerMTok), CacheWritePerMTok: json.Number(p.CacheWritePerMTok)}
}

// withDefaults fills what the API and the config leave unset: the strategy, the
// retries, target weights and upstream model names.
func (s ModelSpec) withDefaults() ModelSpec {
	if s.Strategy == "" {
		s.Strategy = configs.StrategyWeighted
	}
	if s.Retries == nil {
		s.Retries = new(configs.DefaultRetries)
	}
	if s.Fallbacks == nil {
		s.Fallbacks = []string{}
	}
	s.Targets = slices.Clone(s.Targets)
	for i := range s.Targets {
		t := &s.Targets[i]
		if t.Weight == 0 {
			t.Weight = 1
		}
		if t.Model == "" {
			t.Model = s.Name
		}
	}
	return s
}

// TimeoutDuration is the spec's timeout; zero when it has none.
func (s ModelSpec) TimeoutDuration() time.Duration {
	d, _ := time.ParseDuration(s.Timeout)
	return d
}

// Overrides are a target's price overrides, lowest precedence first: the model's, then
// the target's own, as billing's catalog takes them.
func (s ModelSpec) Overrides(t TargetSpec) []*configs.Pricing {
	return []*configs.Pricing{s.Pricing.config(), t.Pricing.config()}
}

func (p *Pricing) config() *configs.Pricing {
	if p == nil {
		return nil
	}
	return &configs.Pricing{InputPerMTok: string(p.InputPerMTok), OutputPerMTok: string(p.OutputPerMTok),
		CachedInputPerMTok: string(p.CachedInputPerMTok), CacheWritePerMTok: string(p.CacheWritePerMTok)}
}

// maxModelName bounds model names, which travel in URLs and logs.
const maxModelName = 256

// validate checks a defaulted spec. providers are the provider names targets may use;
// models the model names fallbacks may use.
func (s ModelSpec) validate(providers, models map[string]bool) error {
	if err := validModelName(s.Name); err != nil {
		return err
	}
	if !slices.Contains(configs.Strategies(), s.Strategy) {
		return apierr.InvalidValue("strategy", fmt.Sprintf("'%s' is not one of %s", s.Strategy,
			strings.Join(configs.Strategies(), ", ")))
	}
	if len(s.Targets) == 0 {
		return apierr.MissingField("targets")
	}
	for i, t := range s.Targets {
		if err := t.validate(fmt.Sprintf("targets[%d]", i), providers); err != nil {
			return err
		}
	}
	for i, f := range s.Fallbacks {
		field := fmt.Sprintf("fallbacks[%d]", i)
		switch {
		case f == s.Name:
			return apierr.InvalidValue(field, "a model cannot fall back to itself")
		case !models[f]:
			return apierr.InvalidValue(field, fmt.Sprintf("no model named '%s'", f))
		case slices.Index(s.Fallbacks, f) < i:
			return apierr.InvalidValue(field, fmt.Sprintf("'%s' is listed twice", f))
		}
	}
	if s.Timeout != "" {
		d, err := time.ParseDuration(s.Timeout)
		if err != nil || d <= 0 || d > 24*time.Hour {
			return apierr.InvalidValue("timeout", "timeout must be a Go duration between 1ms and 24h, like 90s")
		}
	}
	if *s.Retries < 0 || *s.Retries > 10 {
		return apierr.InvalidValue("retries", "retries must be from 0 to 10")
	}
	return s.Pricing.validate("pricing")
}

func validModelName(name string) error {
	switch {
	case name == "":
		return apierr.MissingField("name")
	case len(name) > maxModelName:
		return apierr.InvalidValue("name", fmt.Sprintf("name must be at most %d bytes", maxModelName))
	case strings.TrimSpace(name) != name || strings.IndexFunc(name, unicode.IsControl) >= 0:
		return apierr.InvalidValue("name", "name must not have leading or trailing spaces or control characters")
	}
	return nil
}

func (t TargetSpec) validate(field string, providers map[string]bool) error {
	switch {
	case t.Provider == "":
		return apierr.MissingField(field + ".provider")
	case !providers[t.Provider]:
		return apierr.InvalidValue(field+".provider", fmt.Sprintf("no provider named '%s'", t.Provider))
	case t.Weight < 0:
		return apierr.InvalidValue(field+".weight", "weight must not be negative")
	case t.Priority < 0:
		return apierr.InvalidValue(field+".priority", "priority must not be negative")
	}
	return t.Pricing.validate(field + ".pricing")
}

func (p *Pricing) validate(field string) error {
	if p == nil {
		return nil
	}
	for _, f := range []struct {
		name string
		v    json.Number
	}{{"input_per_mtok", p.InputPerMTok}, {"output_per_mtok", p.OutputPerMTok},
		{"cached_input_per_mtok", p.CachedInputPerMTok}, {"cache_write_per_mtok", p.CacheWritePerMTok}} {
		if _, err := billing.ParseUSD(string(f.v)); f.v != "" && err != nil {
			return apierr.InvalidValue(field+"."+f.name, "prices are non-negative decimals in USD per million tokens, like 2.50")
		}
	}
	return nil
}
