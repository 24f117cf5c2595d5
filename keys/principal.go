package keys

import (
	"net/netip"
	"slices"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

// Principal is the authenticated caller of a request: a client key, an ephemeral child
// key or an admin token. It is immutable once built and shared between requests.
type Principal struct {
	ID   string
	Kind Kind
	Name string
	// Project and Owner are the key's; an ephemeral key has its parent's.
	Project string
	Owner   string
	// ParentID is the client key an ephemeral key was minted from. Spend of an
	// ephemeral key is charged to its parent: billing charges ChargeID.
	ParentID string
	// Role is an admin token's role: "admin" or "viewer".
	Role      string
	Settings  Settings
	ExpiresAt *time.Time
	// MaxRequests caps the uses of an ephemeral key; zero means no cap.
	MaxRequests int64

	endpoints uint8
	nets      []netip.Prefix
	hours     *Hours
	// parent is the parent's principal as of this authentication: an ephemeral key is
	// never wider than its parent is now.
	parent *Principal
}

// Roles of admin tokens.
const (
	RoleAdmin  = "admin"
	RoleViewer = "viewer"
)

func endpointBit(e schema.Endpoint) uint8 {
	switch e {
	case schema.EndpointChat:
		return 1
	case schema.EndpointCompletions:
		return 2
	case schema.EndpointEmbeddings:
		return 4
	case schema.EndpointModels:
		return 8
	}
	return 0
}

// newPrincipal fills the parsed forms of p's settings. Settings were checked when
// stored; a value that no longer parses (a zone removed from the database) denies
// rather than allows.
func newPrincipal(p *Principal) *Principal {
	for _, e := range p.Settings.Endpoints {
		p.endpoints |= endpointBit(schema.Endpoint(e))
	}
	nets, err := ParsePrefixes(p.Settings.AllowedIPs)
	if err != nil {
		nets = []netip.Prefix{{}} // The invalid prefix contains no address.
	}
	p.nets = nets
	if p.Settings.AllowedHours != "" {
		if p.hours, err = ParseHours(p.Settings.AllowedHours); err != nil {
			p.hours = &Hours{loc: time.UTC}
		}
	}
	return p
}

// ChargeID is the key whose budget and spend a request counts against: the parent for
// an ephemeral key, else the key itself.
func (p *Principal) ChargeID() string {
	if p.ParentID != "" {
		return p.ParentID
	}
	return p.ID
}

// Parent returns the parent's principal of an ephemeral key, or nil.
func (p *Principal) Parent() *Principal { return p.parent }

// AllowsModel reports whether the key's model patterns, and its parent's, match name.
func (p *Principal) AllowsModel(name string) bool {
	if p.parent != nil && !p.parent.AllowsModel(name) {
		return false
	}
	return slices.ContainsFunc(p.Settings.Models, func(pat string) bool { return MatchModel(pat, name) })
}

// AllowsEndpoint reports whether the key, and its parent, may call the endpoint.
func (p *Principal) AllowsEndpoint(e schema.Endpoint) bool {
	if p.parent != nil && !p.parent.AllowsEndpoint(e) {
		return false
	}
	return p.endpoints&endpointBit(e) != 0
}

// CheckAccess checks the key's IP and time-of-day rules, and its parent's, for a
// request from ip at now: 403 ip_not_allowed or outside_allowed_hours.
func (p *Principal) CheckAccess(ip netip.Addr, now time.Time) error {
	if p.parent != nil {
		if err := p.parent.CheckAccess(ip, now); err != nil {
			return err
		}
	}
	if len(p.nets) > 0 && !slices.ContainsFunc(p.nets, func(n netip.Prefix) bool { return n.Contains(ip.Unmap()) }) {
		return apierr.Permission("ip_not_allowed", "This key may not be used from your IP address.")
	}
	if p.hours != nil && !p.hours.Contains(now) {
		return apierr.Permission("outside_allowed_hours",
			"This key may only be used during its allowed hours ("+p.hours.String()+").")
	}
	return nil
}

// withParent returns a copy of p linked to parent.
func (p *Principal) withParent(parent *Principal) *Principal {
	c := *p
	c.parent = parent
	return &c
}
