package keys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tollgate-llm/tollgate/store"
)

// entry is a cached key: what authentication needs, and the principal it yields.
type entry struct {
	kind       Kind
	hash       []byte
	prevHash   []byte
	graceUntil time.Time
	status     string
	expiresAt  time.Time
	updatedAt  time.Time
	principal  *Principal
	// linked is the principal of an ephemeral key linked to its parent's current one.
	linked atomic.Pointer[Principal]
}

func toEntry(r *store.Key) (*entry, error) {
	var s Settings
	if len(r.Settings) > 0 {
		if err := json.Unmarshal(r.Settings, &s); err != nil {
			return nil, fmt.Errorf("key %s: settings: %w", r.ID, err)
		}
	}
	e := &entry{kind: Kind(r.Kind), hash: r.Hash, prevHash: r.PrevHash, status: r.Status, updatedAt: r.UpdatedAt}
	if r.GraceUntil != nil {
		e.graceUntil = *r.GraceUntil
	}
	if r.ExpiresAt != nil {
		e.expiresAt = *r.ExpiresAt
	}
	role := r.Role
	if e.kind == KindAdmin && role != RoleAdmin {
		role = RoleViewer // least privilege for a row without a known role
	}
	e.principal = newPrincipal(&Principal{ID: r.ID, Kind: e.kind, Name: r.Name, Project: r.Project,
		Owner: r.Owner, ParentID: r.ParentID, Role: role, Settings: s, ExpiresAt: r.ExpiresAt,
		MaxRequests: r.MaxUses})
	return e, nil
}

// Load fills the cache with every key in the store that is not deleted.
func (a *Authenticator) Load(ctx context.Context) error {
	return a.Reload(ctx)
}

// Reload replaces the cache with the store's keys (deleted ones are read on demand). It
// runs at start and whenever invalidation messages may have been lost.
func (a *Authenticator) Reload(ctx context.Context) error {
	a.reload.Lock()
	defer a.reload.Unlock()
	a.gen.Add(1)
	rows, err := a.store.ListKeys(ctx, store.KeyFilter{SkipDeleted: true})
	if err != nil {
		return fmt.Errorf("loading keys: %w", err)
	}
	cache := make(map[string]*entry, len(rows))
	var mark time.Time
	for _, r := range rows {
		e, err := toEntry(r)
		if err != nil {
			return err
		}
		cache[r.ID] = e
		mark = later(mark, r.UpdatedAt)
	}
	a.mu.Lock()
	a.cache = cache
	clear(a.missing)
	a.mu.Unlock()
	a.watermark = later(a.watermark, mark)
	return nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Put adds or replaces a key in the cache.
func (a *Authenticator) Put(r *store.Key) error {
	e, err := toEntry(r)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.cache[r.ID] = e
	delete(a.missing, r.ID)
	a.mu.Unlock()
	return nil
}

// Forget drops a key from the cache, so the next use reads the store again.
func (a *Authenticator) Forget(id string) {
	a.mu.Lock()
	delete(a.cache, id)
	delete(a.missing, id)
	a.mu.Unlock()
}

// Invalidate reads the key with id again from the store, so that the next request sees
// its current state. When the store cannot be read the key is dropped from the cache,
// so that the next request reads the store itself (and fails closed if it cannot).
func (a *Authenticator) Invalidate(ctx context.Context, id string) error {
	a.reload.Lock()
	defer a.reload.Unlock()
	a.gen.Add(1)
	r, err := a.store.GetKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		a.Forget(id)
		return nil
	}
	if err == nil {
		err = a.Put(r)
	}
	if err != nil {
		a.Forget(id)
		return fmt.Errorf("reloading key %s: %w", id, err)
	}
	return nil
}

// refreshOverlap is how far back Refresh looks before the newest change it has seen,
// to catch changes that committed late or carry a slightly earlier clock.
const refreshOverlap = time.Minute

// Refresh reads the keys changed since the last Reload or Refresh (with some overlap)
// and updates the cache. It is the safety net behind invalidation messages: a replica
// that missed one still converges within one refresh interval.
func (a *Authenticator) Refresh(ctx context.Context) error {
	a.reload.Lock()
	defer a.reload.Unlock()
	a.gen.Add(1)
	since := a.watermark.Add(-refreshOverlap)
	rows, err := a.store.ListKeys(ctx, store.KeyFilter{ChangedSince: since})
	if err != nil {
		return fmt.Errorf("refreshing keys: %w", err)
	}
	for _, r := range rows {
		a.watermark = later(a.watermark, r.UpdatedAt)
		a.mu.RLock()
		old, ok := a.cache[r.ID]
		a.mu.RUnlock()
		if ok && old.updatedAt.After(r.UpdatedAt) {
			continue // a cache miss read a newer row meanwhile
		}
		if err := a.Put(r); err != nil {
			return err
		}
	}
	return nil
}

// lookup returns the cached entry for id, reading the store on a miss. A nil entry
// means no such key.
func (a *Authenticator) lookup(ctx context.Context, id string) (*entry, error) {
	a.mu.RLock()
	e, ok := a.cache[id]
	missAt, missing := a.missing[id]
	a.mu.RUnlock()
	if ok {
		return e, nil
	}
	if missing && a.now().Sub(missAt) < NegativeTTL {
		return nil, nil
	}
	for range 3 {
		gen := a.gen.Load()
		r, err := a.store.GetKey(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			a.remember(id)
			return nil, nil
		}
		if err != nil {
			return nil, storeUnavailable(err)
		}
		e, err := toEntry(r)
		if err != nil {
			return nil, err
		}
		a.mu.Lock()
		// A reload that ran meanwhile may have seen a newer row: read again.
		fresh := a.gen.Load() == gen
		if fresh {
			a.cache[id] = e
			delete(a.missing, id)
		}
		a.mu.Unlock()
		if fresh {
			return e, nil
		}
	}
	return nil, storeUnavailable(errors.New("the key kept changing while it was read"))
}

// remember records id as unknown, bounding the memory the record may take.
func (a *Authenticator) remember(id string) {
	a.mu.Lock()
	if len(a.missing) >= maxMissing {
		clear(a.missing)
	}
	a.missing[id] = a.now()
	a.mu.Unlock()
}
