package keys

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/store"
)

// Opt is one field of a PATCH body: Set when the field is present, Null when it is
// present and null (which clears it).
type Opt[T any] struct {
	Set  bool
	Null bool
	V    T
}

// UnmarshalJSON records that the field is present.
func (o *Opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.V)
}

// Patch is the body of PATCH /admin/v1/keys/{id}: the fields of CreateRequest, each
// optional. A field left out keeps its value; null clears it (back to its default).
type Patch struct {
	Name         Opt[string]          `json:"name"`
	Project      Opt[string]          `json:"project"`
	Owner        Opt[string]          `json:"owner"`
	Models       Opt[[]string]        `json:"models"`
	Endpoints    Opt[[]string]        `json:"endpoints"`
	AllowedIPs   Opt[[]string]        `json:"allowed_ips"`
	AllowedHours Opt[string]          `json:"allowed_hours"`
	ExpiresAt    Opt[string]          `json:"expires_at"`
	TTL          Opt[string]          `json:"ttl"`
	Limits       Opt[*Limits]         `json:"limits"`
	Budget       Opt[*Budget]         `json:"budget"`
	Metadata     Opt[json.RawMessage] `json:"metadata"`
	CanMint      Opt[bool]            `json:"can_mint"`
	AutoSuspend  Opt[bool]            `json:"auto_suspend"`
}

// set assigns o's value to dst when o is present (the zero value when null).
func set[T any](dst *T, o Opt[T]) {
	if o.Set {
		*dst = o.V
	}
}

// Fields returns the names of the fields present, for the audit record.
func (p *Patch) Fields() []string {
	var out []string
	for name, set := range map[string]bool{"name": p.Name.Set, "project": p.Project.Set, "owner": p.Owner.Set,
		"models": p.Models.Set, "endpoints": p.Endpoints.Set, "allowed_ips": p.AllowedIPs.Set,
		"allowed_hours": p.AllowedHours.Set, "expires_at": p.ExpiresAt.Set, "ttl": p.TTL.Set,
		"limits": p.Limits.Set, "budget": p.Budget.Set, "metadata": p.Metadata.Set, "can_mint": p.CanMint.Set,
		"auto_suspend": p.AutoSuspend.Set} {
		if set {
			out = append(out, name)
		}
	}
	return out
}

// ApplyPatch changes the row of a client key as p says, checking the result like a new
// key's. Errors are 400s naming the bad field.
func ApplyPatch(r *store.Key, p Patch, now time.Time) error {
	var s Settings
	if err := json.Unmarshal(r.Settings, &s); err != nil {
		return fmt.Errorf("key %s: settings: %w", r.ID, err)
	}
	set(&r.Name, p.Name)
	set(&r.Project, p.Project)
	set(&r.Owner, p.Owner)
	set(&s.Models, p.Models)
	set(&s.Endpoints, p.Endpoints)
	set(&s.AllowedIPs, p.AllowedIPs)
	set(&s.AllowedHours, p.AllowedHours)
	set(&s.Limits, p.Limits)
	set(&s.Budget, p.Budget)
	set(&s.Metadata, p.Metadata)
	set(&s.CanMint, p.CanMint)
	set(&s.AutoSuspend, p.AutoSuspend)
	if err := checkLabels(r.Name, r.Project, r.Owner); err != nil {
		return err
	}
	if err := s.Normalize(); err != nil {
		return AsAPIError(err)
	}
	if p.ExpiresAt.Set || p.TTL.Set {
		var at *string
		if p.ExpiresAt.Set && !p.ExpiresAt.Null {
			at = &p.ExpiresAt.V
		}
		exp, err := expiry(at, p.TTL.V, now)
		if err != nil {
			return err
		}
		r.ExpiresAt = exp
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	r.Settings = b
	return nil
}

// MaxGrace is the longest grace a rotation may give the old secret.
const MaxGrace = 30 * 24 * time.Hour

// ParseGrace reads a rotation's grace: a Go duration from 0s (the old secret stops at
// once) to MaxGrace. Empty means 0s.
func ParseGrace(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d > MaxGrace {
		return 0, apierr.InvalidValue("grace", "grace must be a Go duration from 0s to 720h, such as 24h")
	}
	return d, nil
}

// Rotate gives the key in r a new secret with the same id, so every setting, its spend
// and its children carry over. The old secret keeps working until now+grace; with no
// grace it stops at once. It returns the new key, shown once.
func Rotate(h *Hasher, r *store.Key, grace time.Duration, now time.Time) (string, error) {
	key, err := Regenerate(Kind(r.Kind), r.ID)
	if err != nil {
		return "", err
	}
	r.PrevHash, r.GraceUntil = nil, nil
	if grace > 0 {
		until := now.Add(grace)
		r.PrevHash, r.GraceUntil = r.Hash, &until
	}
	r.Hash, r.Hint = h.Sum(key), Hint(key)
	return key, nil
}
