package keys

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

// Settings are a key's scopes, limits, budget and metadata, stored as one JSON object.
type Settings struct {
	// Models are glob patterns (see MatchModel) of the model names the key may use.
	Models []string `json:"models"`
	// Endpoints are the endpoints the key may call: chat, completions, embeddings, models.
	Endpoints []string `json:"endpoints"`
	// AllowedIPs are the CIDRs (IPv4 or IPv6; a bare address is one host) the key may be
	// used from; empty means anywhere.
	AllowedIPs []string `json:"allowed_ips,omitempty"`
	// AllowedHours are the times of day the key may be used (see Hours); empty means
	// always.
	AllowedHours string          `json:"allowed_hours,omitempty"`
	Limits       *Limits         `json:"limits,omitempty"`
	Budget       *Budget         `json:"budget,omitempty"`
	Metadata     json.RawMessage `json:"metadata,omitempty"`
	CanMint      bool            `json:"can_mint,omitempty"`
	// AutoSuspend opts the key in to being disabled (reversibly, audited) when the
	// anomaly detectors raise a high-severity finding about it.
	AutoSuspend bool `json:"auto_suspend,omitempty"`
}

// Limits are a key's rate limits; zero means unlimited.
type Limits struct {
	RPM         int64 `json:"rpm,omitempty"`
	TPM         int64 `json:"tpm,omitempty"`
	MaxParallel int64 `json:"max_parallel,omitempty"`
}

// Budget is a spending cap in USD per period (day, week, month or total). LimitUSD keeps
// the decimal text so that no float ever touches money.
type Budget struct {
	LimitUSD json.Number `json:"limit_usd"`
	Period   string      `json:"period"`
}

// LimitNanos returns the limit in nano-USD.
func (b *Budget) LimitNanos() (int64, error) { return ParseUSD(b.LimitUSD.String()) }

// AllEndpoints are the endpoints a key gets when none are named.
var AllEndpoints = []string{string(schema.EndpointChat), string(schema.EndpointCompletions),
	string(schema.EndpointEmbeddings), string(schema.EndpointModels)}

// budgetPeriods are the periods a budget may have.
var budgetPeriods = []string{"day", "week", "month", "total"}

// FieldError is a settings field with a value tollgate cannot accept.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// APIError returns e as the 400 invalid_value error that names the field.
func (e *FieldError) APIError() *apierr.Error {
	return apierr.InvalidValue(e.Field, e.Error())
}

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Normalize fills defaults, checks every field and writes CIDRs in canonical form. The
// error is a *FieldError naming the bad field.
func (s *Settings) Normalize() error {
	if len(s.Models) == 0 {
		s.Models = []string{"*"}
	}
	for _, m := range s.Models {
		if err := checkPattern(m); err != nil {
			return fieldErr("models", "%v", err)
		}
	}
	if len(s.Endpoints) == 0 {
		s.Endpoints = slices.Clone(AllEndpoints)
	}
	for _, e := range s.Endpoints {
		if !slices.Contains(AllEndpoints, e) {
			return fieldErr("endpoints", "%q is not one of %s", e, strings.Join(AllEndpoints, ", "))
		}
	}
	nets, err := ParsePrefixes(s.AllowedIPs)
	if err != nil {
		return fieldErr("allowed_ips", "%v", err)
	}
	var canon []string
	for _, n := range nets {
		canon = append(canon, n.String())
	}
	s.AllowedIPs = canon
	if s.AllowedHours != "" {
		if _, err := ParseHours(s.AllowedHours); err != nil {
			return fieldErr("allowed_hours", "%v", err)
		}
	}
	return s.checkMoneyAndMetadata()
}

func (s *Settings) checkMoneyAndMetadata() error {
	return (&ProjectSettings{Limits: s.Limits, Budget: s.Budget, Metadata: s.Metadata}).Check()
}

// ProjectSettings are a project's limits, budget and metadata, stored as one JSON
// object. They apply together with those of each key in the project.
type ProjectSettings struct {
	Limits   *Limits         `json:"limits,omitempty"`
	Budget   *Budget         `json:"budget,omitempty"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// Check checks every field; the error is a *FieldError naming the bad one.
func (p *ProjectSettings) Check() error {
	if l := p.Limits; l != nil && (l.RPM < 0 || l.TPM < 0 || l.MaxParallel < 0) {
		return fieldErr("limits", "values must not be negative")
	}
	if b := p.Budget; b != nil {
		if _, err := b.LimitNanos(); err != nil {
			return fieldErr("budget.limit_usd", "%v", err)
		}
		if !slices.Contains(budgetPeriods, b.Period) {
			return fieldErr("budget.period", "must be day, week, month or total")
		}
	}
	if len(p.Metadata) > 0 && (p.Metadata[0] != '{' || !json.Valid(p.Metadata)) {
		return fieldErr("metadata", "must be a JSON object")
	}
	return nil
}

// ParsePrefixes reads CIDRs or bare addresses (one host) into masked prefixes. IPv4
// addresses written as IPv4-mapped IPv6 become plain IPv4.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		var p netip.Prefix
		var err error
		if strings.Contains(s, "/") {
			p, err = netip.ParsePrefix(s)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(s); err == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil || p.Addr().Zone() != "" {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or 2001:db8::/32", s)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
