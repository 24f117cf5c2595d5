package keys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/store"
)

// ManagerStore is the part of the store the manager uses.
type ManagerStore interface {
	CreateKey(ctx context.Context, k *store.Key) error
	ListKeys(ctx context.Context, f store.KeyFilter) ([]*store.Key, error)
}

// Manager creates and lists keys without auditing, keeping the authenticator's cache in
// step. The gateway uses it for keys it makes itself (the demo key); the admin API goes
// through package admin, which audits every change.
type Manager struct {
	store ManagerStore
	auth  *Authenticator
	hash  *Hasher
	now   func() time.Time
}

// NewManager returns a manager over a store and the authenticator whose cache it keeps.
func NewManager(s ManagerStore, a *Authenticator) *Manager {
	return &Manager{store: s, auth: a, hash: a.hasher, now: a.now}
}

// CreateRequest is the body of POST /admin/v1/keys.
type CreateRequest struct {
	Name      string  `json:"name"`
	Project   string  `json:"project,omitempty"`
	Owner     string  `json:"owner,omitempty"`
	ExpiresAt *string `json:"expires_at,omitempty"`
	TTL       string  `json:"ttl,omitempty"`
	Settings
}

// KeyView is a key as the admin API shows it: never a secret or a hash.
type KeyView struct {
	ID           string     `json:"id"`
	Key          string     `json:"key,omitempty"`
	Kind         string     `json:"kind"`
	Hint         string     `json:"hint"`
	Name         string     `json:"name"`
	Project      string     `json:"project,omitempty"`
	Owner        string     `json:"owner,omitempty"`
	ParentID     string     `json:"parent_id,omitempty"`
	Status       string     `json:"status"`
	CreatedBy    string     `json:"created_by,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	ExpiresAt    *time.Time `json:"expires_at,omitempty"`
	GraceUntil   *time.Time `json:"grace_until,omitempty"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
	RevokeReason string     `json:"revoke_reason,omitempty"`
	MaxRequests  int64      `json:"max_requests,omitempty"`
	Requests     int64      `json:"requests_used,omitempty"`
	Settings
}

// View renders a stored key for the admin API.
func View(r *store.Key) (KeyView, error) {
	v := KeyView{ID: r.ID, Kind: r.Kind, Hint: r.Hint, Name: r.Name, Project: r.Project, Owner: r.Owner,
		ParentID: r.ParentID, Status: r.Status, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt,
		UpdatedAt: r.UpdatedAt, ExpiresAt: r.ExpiresAt, RevokedAt: r.RevokedAt, RevokeReason: r.RevokeReason,
		MaxRequests: r.MaxUses, Requests: r.Uses}
	if r.PrevHash != nil {
		v.GraceUntil = r.GraceUntil
	}
	if len(r.Settings) > 0 {
		if err := json.Unmarshal(r.Settings, &v.Settings); err != nil {
			return v, fmt.Errorf("key %s: settings: %w", r.ID, err)
		}
	}
	return v, nil
}

// NewClientKey checks req and builds the row of a new client key, with its secret
// (shown once). Errors are 400s naming the bad field.
func NewClientKey(h *Hasher, req CreateRequest, createdBy string, now time.Time) (*store.Key, string, error) {
	if err := checkLabels(req.Name, req.Project, req.Owner); err != nil {
		return nil, "", err
	}
	if err := req.Settings.Normalize(); err != nil {
		return nil, "", AsAPIError(err)
	}
	expires, err := expiry(req.ExpiresAt, req.TTL, now)
	if err != nil {
		return nil, "", err
	}
	settings, err := json.Marshal(req.Settings)
	if err != nil {
		return nil, "", err
	}
	key, id, err := Generate(KindClient)
	if err != nil {
		return nil, "", err
	}
	return &store.Key{ID: id, Kind: string(KindClient), Hash: h.Sum(key), Hint: Hint(key),
		Name: req.Name, Project: req.Project, Owner: req.Owner, Status: "active", Settings: settings,
		CreatedBy: createdBy, CreatedAt: now, UpdatedAt: now, ExpiresAt: expires}, key, nil
}

// AsAPIError turns a *FieldError into its 400 invalid_value; other errors pass unchanged.
func AsAPIError(err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.APIError()
	}
	return err
}

// checkLabels checks a key's name (required), project and owner.
func checkLabels(name, project, owner string) error {
	if strings.TrimSpace(name) == "" {
		return apierr.MissingField("name")
	}
	for field, v := range map[string]string{"name": name, "owner": owner} {
		if len(v) > 200 {
			return apierr.InvalidValue(field, field+" must be at most 200 bytes")
		}
	}
	if project != "" {
		if err := CheckProjectName(project); err != nil {
			return apierr.InvalidValue("project", err.Error())
		}
	}
	return nil
}

// CheckProjectName checks a project name: 1 to 64 letters, digits, '.', '_' or '-'.
func CheckProjectName(name string) error {
	ok := len(name) > 0 && len(name) <= 64 && strings.IndexFunc(name, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0
	if !ok {
		return errors.New("a project name is 1 to 64 letters, digits, '.', '_' or '-'")
	}
	return nil
}

// expiry reads expires_at or ttl into an expiry time; neither means no expiry.
func expiry(expiresAt *string, ttl string, now time.Time) (*time.Time, error) {
	switch {
	case expiresAt != nil && ttl != "":
		return nil, apierr.InvalidValue("ttl", "give expires_at or ttl, not both")
	case expiresAt != nil:
		t, err := time.Parse(time.RFC3339, *expiresAt)
		if err != nil {
			return nil, apierr.InvalidValue("expires_at", "expires_at must be an RFC 3339 time")
		}
		t = t.UTC()
		return &t, nil
	case ttl != "":
		d, err := time.ParseDuration(ttl)
		if err != nil || d <= 0 {
			return nil, apierr.InvalidValue("ttl", "ttl must be a positive Go duration such as 720h")
		}
		t := now.Add(d)
		return &t, nil
	}
	return nil, nil
}

// Create makes a new client key. The returned view holds the key itself, shown once.
func (m *Manager) Create(ctx context.Context, req CreateRequest, createdBy string) (KeyView, error) {
	for range 3 {
		r, key, err := NewClientKey(m.hash, req, createdBy, m.now().UTC())
		if err != nil {
			return KeyView{}, err
		}
		err = m.store.CreateKey(ctx, r)
		if errors.Is(err, store.ErrConflict) {
			continue // a 71-bit id collision; draw again
		}
		if err != nil {
			return KeyView{}, fmt.Errorf("creating key: %w", err)
		}
		if err := m.auth.Put(r); err != nil {
			return KeyView{}, err
		}
		v, err := View(r)
		v.Key = key
		return v, err
	}
	return KeyView{}, errors.New("creating key: id collisions")
}

// List returns keys matching a filter.
func (m *Manager) List(ctx context.Context, f store.KeyFilter) ([]KeyView, error) {
	rows, err := m.store.ListKeys(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("listing keys: %w", err)
	}
	return Views(rows)
}

// Views renders stored keys for the admin API.
func Views(rows []*store.Key) ([]KeyView, error) {
	out := make([]KeyView, 0, len(rows))
	for _, r := range rows {
		v, err := View(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
