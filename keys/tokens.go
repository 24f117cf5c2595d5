package keys

import (
	"context"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/store"
)

// AdminTokens checks admin tokens: the bootstrap token from TOLLGATE_ADMIN_TOKEN, which
// is compared by HMAC in constant time and never stored, and the tga_ tokens made
// through the admin API, which are stored hashed like client keys (kind "admin") and
// served from the authenticator's cache.
type AdminTokens struct {
	hash      *Hasher
	bootstrap []byte
	auth      *Authenticator
}

// BootstrapID is the principal id of the bootstrap admin token.
const BootstrapID = "bootstrap"

// NewAdminTokens returns a checker for the bootstrap token only (empty: no token
// works).
func NewAdminTokens(h *Hasher, bootstrap string) *AdminTokens {
	a := &AdminTokens{hash: h}
	if bootstrap != "" {
		a.bootstrap = h.Sum(bootstrap)
	}
	return a
}

// NewAdminAuthenticator returns a checker for the bootstrap token (empty: none) and the
// admin tokens stored through auth.
func NewAdminAuthenticator(auth *Authenticator, bootstrap string) *AdminTokens {
	a := NewAdminTokens(auth.hasher, bootstrap)
	a.auth = auth
	return a
}

// Authenticate returns the admin principal for a token.
func (a *AdminTokens) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if token == "" {
		return nil, apierr.InvalidAPIKey("You didn't provide an admin token. Send it as 'Authorization: Bearer tga_...'.")
	}
	if a.bootstrap != nil && equal(a.hash.Sum(token), a.bootstrap) {
		return &Principal{ID: BootstrapID, Kind: KindAdmin, Name: "bootstrap", Role: RoleAdmin}, nil
	}
	if p, err := Parse(token); err == nil && p.Kind == KindAdmin && a.auth != nil {
		return a.auth.Authenticate(ctx, token)
	}
	return nil, apierr.InvalidAPIKey("invalid admin token").WithCause(ErrBadCredential)
}

// TokenRequest is the body of POST /admin/v1/admin-tokens.
type TokenRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// TokenView is an admin token as the admin API shows it; Token is set only in the
// answer that creates it.
type TokenView struct {
	ID        string    `json:"id"`
	Token     string    `json:"token,omitempty"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Hint      string    `json:"hint"`
	Status    string    `json:"status"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// NewAdminToken checks req and builds the row of a new admin token, with the token
// itself (shown once).
func NewAdminToken(h *Hasher, req TokenRequest, createdBy string, now time.Time) (*store.Key, string, error) {
	if err := checkLabels(req.Name, "", ""); err != nil {
		return nil, "", err
	}
	if req.Role != RoleAdmin && req.Role != RoleViewer {
		return nil, "", apierr.InvalidValue("role", "role must be admin or viewer")
	}
	token, id, err := Generate(KindAdmin)
	if err != nil {
		return nil, "", err
	}
	return &store.Key{ID: id, Kind: string(KindAdmin), Hash: h.Sum(token), Hint: Hint(token), Name: req.Name,
		Role: req.Role, Status: "active", Settings: []byte("{}"), CreatedBy: createdBy, CreatedAt: now,
		UpdatedAt: now}, token, nil
}

// ViewToken renders a stored admin token.
func ViewToken(r *store.Key) TokenView {
	return TokenView{ID: r.ID, Name: r.Name, Role: r.Role, Hint: r.Hint, Status: r.Status,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt}
}
