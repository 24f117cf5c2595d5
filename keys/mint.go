package keys

import (
	"encoding/json"
	"net/netip"
	"slices"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/store"
)

// Ephemeral key lifetimes (API.md "Ephemeral child keys").
const (
	MinChildTTL     = 10 * time.Second
	MaxChildTTL     = 2 * time.Hour
	DefaultChildTTL = 10 * time.Minute
)

// MintRequest is the body of POST /v1/keys/ephemeral. Every field narrows the parent;
// left out, it is the parent's.
type MintRequest struct {
	Name      string   `json:"name,omitempty"`
	TTL       string   `json:"ttl,omitempty"`
	Models    []string `json:"models,omitempty"`
	Endpoints []string `json:"endpoints,omitempty"`
	// MaxCostUSD caps the child's spend (which is charged to the parent).
	MaxCostUSD json.Number `json:"max_cost_usd,omitempty"`
	// MaxRequests caps the child's requests; 1 makes it single use, 0 uncapped.
	MaxRequests int64 `json:"max_requests,omitempty"`
	// BindIP is an address or CIDR the child may be used from.
	BindIP   string          `json:"bind_ip,omitempty"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
	// ParentRemaining is what is left of the budgets above the parent, in nano-USD, set
	// by the server from the ledger (never by the client); nil means unknown, and
	// max_cost_usd is then checked against the parent's budget limit.
	ParentRemaining *int64 `json:"-"`
}

// MintView is the answer to a mint: the child key, shown once, and its limits.
type MintView struct {
	ID          string    `json:"id"`
	Key         string    `json:"key"`
	ParentID    string    `json:"parent_id"`
	ExpiresAt   time.Time `json:"expires_at"`
	Models      []string  `json:"models"`
	Endpoints   []string  `json:"endpoints"`
	AllowedIPs  []string  `json:"allowed_ips,omitempty"`
	MaxCostUSD  string    `json:"max_cost_usd,omitempty"`
	MaxRequests int64     `json:"max_requests,omitempty"`
}

// NewChildKey checks a mint request against the parent and builds the child's row and
// key. The child is never wider than the parent: its models are covered by the parent's
// patterns, its endpoints and IPs are within the parent's, its budget is within what
// remains of the parent's budgets (req.ParentRemaining; the parent's budget limit when
// that is unknown), it expires no later than the parent and it cannot mint.
func NewChildKey(h *Hasher, parent *Principal, req MintRequest, now time.Time) (*store.Key, MintView, error) {
	if parent.Kind != KindClient || !parent.Settings.CanMint {
		return nil, MintView{}, apierr.Permission("mint_not_allowed",
			"This key may not mint ephemeral keys; an admin can allow it with can_mint.")
	}
	if req.Name == "" {
		req.Name = "ephemeral"
	}
	if err := checkLabels(req.Name, "", ""); err != nil {
		return nil, MintView{}, err
	}
	// Clones: the parent's principal is shared and must never change.
	s := Settings{Models: slices.Clone(parent.Settings.Models), Endpoints: slices.Clone(parent.Settings.Endpoints),
		AllowedIPs: slices.Clone(parent.Settings.AllowedIPs), AllowedHours: parent.Settings.AllowedHours,
		Limits: parent.Settings.Limits, Metadata: req.Metadata}
	if err := narrowScopes(&s, parent, req); err != nil {
		return nil, MintView{}, err
	}
	if err := narrowBudget(&s, parent, req.MaxCostUSD, req.ParentRemaining); err != nil {
		return nil, MintView{}, err
	}
	if err := narrowIP(&s, parent, req.BindIP); err != nil {
		return nil, MintView{}, err
	}
	if err := s.Normalize(); err != nil {
		return nil, MintView{}, AsAPIError(err)
	}
	expires, err := childExpiry(parent, req.TTL, now)
	if err != nil {
		return nil, MintView{}, err
	}
	if req.MaxRequests < 0 {
		return nil, MintView{}, apierr.InvalidValue("max_requests", "max_requests must not be negative")
	}
	return buildChild(h, parent, req, s, expires, now)
}

func buildChild(h *Hasher, parent *Principal, req MintRequest, s Settings, expires, now time.Time) (*store.Key, MintView, error) {
	settings, err := json.Marshal(s)
	if err != nil {
		return nil, MintView{}, err
	}
	key, id, err := Generate(KindEphemeral)
	if err != nil {
		return nil, MintView{}, err
	}
	r := &store.Key{ID: id, Kind: string(KindEphemeral), Hash: h.Sum(key), Hint: Hint(key), Name: req.Name,
		Project: parent.Project, Owner: parent.Owner, ParentID: parent.ID, Status: "active",
		Settings: settings, CreatedBy: parent.ID, CreatedAt: now, UpdatedAt: now, ExpiresAt: &expires,
		MaxUses: req.MaxRequests}
	v := MintView{ID: id, Key: key, ParentID: parent.ID, ExpiresAt: expires, Models: s.Models,
		Endpoints: s.Endpoints, AllowedIPs: s.AllowedIPs, MaxRequests: req.MaxRequests}
	if s.Budget != nil {
		v.MaxCostUSD = s.Budget.LimitUSD.String()
	}
	return r, v, nil
}

// narrowScopes sets the child's models and endpoints, each within the parent's.
func narrowScopes(s *Settings, parent *Principal, req MintRequest) error {
	for _, m := range req.Models {
		if err := checkPattern(m); err != nil {
			return apierr.InvalidValue("models", err.Error())
		}
		if !Covers(parent.Settings.Models, m) {
			return apierr.Permission("model_not_allowed",
				"The model pattern '"+m+"' is not within the models of the parent key.").WithParam("models")
		}
	}
	if len(req.Models) > 0 {
		s.Models = req.Models
	}
	for _, e := range req.Endpoints {
		if !slices.Contains(parent.Settings.Endpoints, e) {
			return apierr.Permission("endpoint_not_allowed",
				"The endpoint '"+e+"' is not among the endpoints of the parent key.").WithParam("endpoints")
		}
	}
	if len(req.Endpoints) > 0 {
		s.Endpoints = req.Endpoints
	}
	return nil
}

// narrowBudget sets the child's total budget to max_cost_usd, refusing more than what
// remains of the parent's budgets, or than the parent's budget limit when remaining is
// nil.
func narrowBudget(s *Settings, parent *Principal, maxCost json.Number, remaining *int64) error {
	if maxCost == "" {
		return nil
	}
	cost, err := ParseUSD(maxCost.String())
	if err != nil {
		return apierr.InvalidValue("max_cost_usd", "max_cost_usd "+err.Error())
	}
	if remaining != nil {
		if cost > *remaining {
			return apierr.InvalidValue("max_cost_usd", "max_cost_usd is more than what remains of the parent key's budgets, "+
				FormatUSD(*remaining)+" USD")
		}
	} else if b := parent.Settings.Budget; b != nil {
		limit, err := b.LimitNanos()
		if err == nil && cost > limit {
			return apierr.InvalidValue("max_cost_usd", "max_cost_usd is more than the parent key's budget of "+
				FormatUSD(limit)+" USD")
		}
	}
	s.Budget = &Budget{LimitUSD: json.Number(FormatUSD(cost)), Period: "total"}
	return nil
}

// narrowIP binds the child to bind_ip, which must lie within the parent's allowed IPs.
func narrowIP(s *Settings, parent *Principal, bind string) error {
	if bind == "" {
		return nil
	}
	p, err := ParsePrefixes([]string{bind})
	if err != nil {
		return apierr.InvalidValue("bind_ip", "bind_ip: "+err.Error())
	}
	if len(parent.nets) > 0 && !slices.ContainsFunc(parent.nets, func(n netip.Prefix) bool {
		return n.Bits() <= p[0].Bits() && n.Contains(p[0].Addr())
	}) {
		return apierr.Permission("ip_not_allowed", "bind_ip is outside the parent key's allowed IPs.").WithParam("bind_ip")
	}
	s.AllowedIPs = []string{p[0].String()}
	return nil
}

// childExpiry reads the ttl (default 10m, from 10s to 2h). The child never outlives the
// parent: an explicit ttl past the parent's expiry is refused, the default is cut short.
func childExpiry(parent *Principal, ttl string, now time.Time) (time.Time, error) {
	d := DefaultChildTTL
	if ttl != "" {
		var err error
		if d, err = time.ParseDuration(ttl); err != nil || d < MinChildTTL || d > MaxChildTTL {
			return time.Time{}, apierr.InvalidValue("ttl", "ttl must be a Go duration from 10s to 2h, such as 10m")
		}
	}
	exp := now.Add(d)
	if parent.ExpiresAt != nil && exp.After(*parent.ExpiresAt) {
		if ttl != "" {
			return time.Time{}, apierr.InvalidValue("ttl", "ttl reaches past the parent key's expiry at "+
				parent.ExpiresAt.UTC().Format(time.RFC3339))
		}
		exp = *parent.ExpiresAt
	}
	return exp, nil
}
