package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/store"
)

// Auditor records audit events; package audit's Log is one.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Publisher tells every replica that something changed; invalidate.Bus is one.
type Publisher interface {
	Publish(ctx context.Context, topic, id string) error
}

// KeyStore is the part of the store the key services use.
type KeyStore interface {
	GetKey(ctx context.Context, id string) (*store.Key, error)
	ListKeys(ctx context.Context, f store.KeyFilter) ([]*store.Key, error)
	CreateKey(ctx context.Context, k *store.Key) error
	UpdateKeyIf(ctx context.Context, k *store.Key, prevUpdatedAt time.Time) error
	RevokeKeys(ctx context.Context, sel store.KeySelector, reason string) ([]string, error)
	RemoveKey(ctx context.Context, id string) ([]string, error)
}

// Deps are what the key lifecycle services need.
type Deps struct {
	Hasher  *keys.Hasher
	Auditor Auditor
	Bus     Publisher
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives what an admin call cannot return (a failed publish); nil means
	// slog.Default().
	Log *slog.Logger
}

func (d *Deps) defaults() {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
}

func (d *Deps) now() time.Time { return d.Now().UTC() }

// audited records ev, then runs apply. Nothing is applied unless the audit log took
// the event; a failed apply is recorded too.
func (d *Deps) audited(ctx context.Context, ev audit.Event, apply func() error) error {
	ev.Time = d.now()
	if err := d.Auditor.Record(ctx, ev); err != nil {
		d.Log.Error("the audit log is unavailable; the admin action was refused", "action", ev.Action, "error", err)
		return apierr.New(apierr.KindGateway, 503, "service_unavailable", "audit_unavailable",
			"audit log unavailable: the change was not made; try again shortly").WithCause(err)
	}
	if err := apply(); err != nil {
		failed := ev
		failed.Details = maps.Clone(ev.Details)
		if failed.Details == nil {
			failed.Details = map[string]any{}
		}
		failed.Details["outcome"] = "failed"
		failed.Time = d.now()
		if rerr := d.Auditor.Record(ctx, failed); rerr != nil {
			d.Log.Error("could not audit a failed admin action", "action", ev.Action, "error", rerr)
		}
		return err
	}
	return nil
}

// publish tells every replica the keys with ids changed. A failure is logged, not
// returned: the change is committed and this replica's cache is current; the others
// converge by their periodic refresh.
func (d *Deps) publish(ctx context.Context, ids ...string) {
	for _, id := range ids {
		if err := d.Bus.Publish(ctx, keys.InvalidationTopic, id); err != nil {
			d.Log.Warn("could not tell other replicas that a key changed; they catch up at their next refresh",
				"key_id", id, "error", err)
		}
	}
}

// Keys is the client key lifecycle: create, read, change, rotate, revoke, delete,
// disable, enable, and minting ephemeral keys.
type Keys struct {
	Deps
	store KeyStore
}

// NewKeys returns the key service.
func NewKeys(s KeyStore, d Deps) *Keys {
	d.defaults()
	return &Keys{Deps: d, store: s}
}

// clientKinds are the kinds the keys API shows; admin tokens have their own API.
var clientKinds = []string{string(keys.KindClient), string(keys.KindEphemeral)}

func keyNotFound(id string) error {
	return apierr.NotFound(fmt.Sprintf("No key with id '%s'.", id))
}

func conflict(msg string) error {
	return apierr.New(apierr.KindCaller, 409, "invalid_request_error", "conflict", msg)
}

// load returns a client or ephemeral key that is not deleted, or 404.
func (k *Keys) load(ctx context.Context, id string) (*store.Key, error) {
	r, err := k.store.GetKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && (r.Kind == string(keys.KindAdmin) || r.Status == "deleted") {
		return nil, keyNotFound(id)
	}
	return r, err
}

// Create makes a client key; the view holds the key itself, shown once.
func (k *Keys) Create(ctx context.Context, actor audit.Actor, req keys.CreateRequest) (keys.KeyView, error) {
	for range 3 {
		r, key, err := keys.NewClientKey(k.Hasher, req, actor.ID, k.now())
		if err != nil {
			return keys.KeyView{}, err
		}
		s, _ := keys.View(r)
		ev := audit.Event{Actor: actor, Action: "key.create", Target: "key:" + r.ID, Details: map[string]any{
			"name": r.Name, "project": r.Project, "owner": r.Owner, "models": s.Models, "endpoints": s.Endpoints,
			"allowed_ips": s.AllowedIPs, "allowed_hours": s.AllowedHours, "expires_at": r.ExpiresAt, "can_mint": s.CanMint}}
		err = k.audited(ctx, ev, func() error { return k.store.CreateKey(ctx, r) })
		if errors.Is(err, store.ErrConflict) {
			continue // a 71-bit id collision; draw again
		}
		if err != nil {
			return keys.KeyView{}, err
		}
		v, err := keys.View(r)
		v.Key = key
		return v, err
	}
	return keys.KeyView{}, errors.New("creating key: id collisions")
}

// Get returns a key.
func (k *Keys) Get(ctx context.Context, id string) (keys.KeyView, error) {
	r, err := k.load(ctx, id)
	if err != nil {
		return keys.KeyView{}, err
	}
	return keys.View(r)
}

// List returns the client and ephemeral keys matching f, never deleted ones.
func (k *Keys) List(ctx context.Context, f store.KeyFilter) ([]keys.KeyView, error) {
	if f.Status == "deleted" {
		return []keys.KeyView{}, nil
	}
	f.Kind, f.Kinds, f.SkipDeleted = "", clientKinds, true
	rows, err := k.store.ListKeys(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("listing keys: %w", err)
	}
	return keys.Views(rows)
}
