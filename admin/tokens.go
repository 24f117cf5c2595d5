package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/store"
)

// Tokens are the admin tokens made through the admin API (the bootstrap token from
// the environment is not one of them), and the audit of admin authentication.
type Tokens struct {
	Deps
	store KeyStore
}

// NewTokens returns the admin token service.
func NewTokens(s KeyStore, d Deps) *Tokens {
	d.defaults()
	return &Tokens{Deps: d, store: s}
}

func tokenNotFound(id string) error {
	return apierr.NotFound(fmt.Sprintf("No admin token with id '%s'.", id))
}

// Create makes an admin token; the view holds the token itself, shown once.
func (t *Tokens) Create(ctx context.Context, actor audit.Actor, req keys.TokenRequest) (keys.TokenView, error) {
	for range 3 {
		r, token, err := keys.NewAdminToken(t.Hasher, req, actor.ID, t.now())
		if err != nil {
			return keys.TokenView{}, err
		}
		ev := audit.Event{Actor: actor, Action: "admin_token.create", Target: "admin_token:" + r.ID,
			Details: map[string]any{"name": r.Name, "role": r.Role}}
		err = t.audited(ctx, ev, func() error { return t.store.CreateKey(ctx, r) })
		if errors.Is(err, store.ErrConflict) {
			continue // a 71-bit id collision; draw again
		}
		if err != nil {
			return keys.TokenView{}, err
		}
		v := keys.ViewToken(r)
		v.Token = token
		return v, nil
	}
	return keys.TokenView{}, errors.New("creating admin token: id collisions")
}

// List returns the admin tokens that are not deleted.
func (t *Tokens) List(ctx context.Context) ([]keys.TokenView, error) {
	rows, err := t.store.ListKeys(ctx, store.KeyFilter{Kind: string(keys.KindAdmin), SkipDeleted: true})
	if err != nil {
		return nil, fmt.Errorf("listing admin tokens: %w", err)
	}
	out := make([]keys.TokenView, 0, len(rows))
	for _, r := range rows {
		out = append(out, keys.ViewToken(r))
	}
	return out, nil
}

// Delete deletes an admin token; it stops working on every replica.
func (t *Tokens) Delete(ctx context.Context, actor audit.Actor, id string) error {
	r, err := t.store.GetKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && (r.Kind != string(keys.KindAdmin) || r.Status == "deleted") {
		return tokenNotFound(id)
	}
	if err != nil {
		return err
	}
	ev := audit.Event{Actor: actor, Action: "admin_token.delete", Target: "admin_token:" + id}
	var ids []string
	err = t.audited(ctx, ev, func() (err error) {
		ids, err = t.store.RemoveKey(ctx, id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return tokenNotFound(id)
	}
	if err != nil {
		return err
	}
	t.publish(ctx, ids...)
	return nil
}

// AuthFailed records a failed admin authentication (reason: "invalid_token",
// "forbidden", ...). The actor holds the source IP and request id; never the token.
func (t *Tokens) AuthFailed(ctx context.Context, actor audit.Actor, reason string) error {
	return t.Auditor.Record(ctx, audit.Event{Actor: actor, Action: "admin.auth_failed",
		Details: map[string]any{"reason": reason}, Time: t.now()})
}
