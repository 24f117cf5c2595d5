package vault

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// KEKRecord is one keyring row: a KEK version sealed under the root key.
type KEKRecord struct {
	ID      string
	Version int
	// Wrapped is the KEK, wrapped by the root with AAD RowAAD("vault_keks", ID, "wrapped").
	Wrapped []byte
	// RootID is the id of the root key that wrapped it.
	RootID  string
	Created time.Time
}

// Store is the part of the store the vault needs: the meta rows (for the canary) and
// the keyring.
type Store interface {
	MetaStore
	// ListKEKs returns every keyring row.
	ListKEKs(ctx context.Context) ([]KEKRecord, error)
	// InsertKEK adds a row; it fails if the id or the version exists.
	InsertKEK(ctx context.Context, r KEKRecord) error
	// RewrapKEK replaces a row's wrapped key and root id if the row still holds old,
	// and reports whether it did.
	RewrapKEK(ctx context.Context, id string, old, wrapped []byte, rootID string) (bool, error)
}

// KEKInfo describes a KEK the vault knows, for status reports.
type KEKInfo struct {
	ID string `json:"id"`
	// Version is the keyring version, 0 for the root key itself.
	Version int       `json:"version"`
	Created time.Time `json:"created_at,omitzero"`
	Current bool      `json:"current"`
	Root    bool      `json:"root,omitempty"`
}

// ring is a booted vault's keyring: where it lives and the root that wraps it.
type ring struct {
	store Store
	root  KEK
	now   func() time.Time
	infos map[string]KEKInfo
}

// keyringAAD binds a wrapped KEK to its keyring row.
func keyringAAD(id string) []byte { return RowAAD("vault_keks", id, "wrapped") }

// Root returns the id of the root key, or "" for a vault without a keyring.
func (v *Vault) Root() string {
	if v.ring == nil {
		return ""
	}
	return v.ring.root.ID()
}

// Refresh loads keyring versions added by other replicas and makes the newest current.
func (v *Vault) Refresh(ctx context.Context) error {
	if v.ring == nil {
		return errors.New("vault: no keyring")
	}
	recs, err := v.ring.store.ListKEKs(ctx)
	if err != nil {
		return fmt.Errorf("vault: reading the keyring: %w", err)
	}
	return v.load(ctx, recs)
}

// load opens every record not yet known and makes the newest version current.
func (v *Vault) load(ctx context.Context, recs []KEKRecord) error {
	slices.SortFunc(recs, func(a, b KEKRecord) int { return a.Version - b.Version })
	opened := map[string]KEK{}
	for _, r := range recs {
		v.mu.RLock()
		_, known := v.byID[r.ID]
		v.mu.RUnlock()
		if known {
			continue
		}
		kek, err := v.ring.open(ctx, r)
		if err != nil {
			return err
		}
		opened[r.ID] = kek
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for id, k := range opened {
		v.byID[id] = k
	}
	for _, r := range recs {
		v.ring.infos[r.ID] = KEKInfo{ID: r.ID, Version: r.Version, Created: r.Created}
	}
	if len(recs) > 0 {
		v.current = v.byID[recs[len(recs)-1].ID]
	}
	return nil
}

// errRootCannotOpen is wrapped by the error of a root that cannot open a keyring row.
var errRootCannotOpen = errors.New("the root key cannot open the keyring")

// open unwraps a keyring record with the root.
func (r *ring) open(ctx context.Context, rec KEKRecord) (KEK, error) {
	key, err := r.root.Unwrap(ctx, rec.Wrapped, keyringAAD(rec.ID))
	if err != nil {
		return nil, fmt.Errorf("%w: KEK %s (version %d) was sealed with root %q: %w",
			errRootCannotOpen, rec.ID, rec.Version, rec.RootID, err)
	}
	defer clear(key)
	if len(key) != 32 {
		return nil, fmt.Errorf("%w: KEK %s has %d bytes", errRootCannotOpen, rec.ID, len(key))
	}
	kek := newAESKEK("kek"+strconv.Itoa(rec.Version)+":", key)
	if kek.ID() != rec.ID {
		return nil, fmt.Errorf("%w: KEK %s does not match its id", errRootCannotOpen, rec.ID)
	}
	return kek, nil
}

// Rotate adds a new KEK version, makes it current on this replica, and re-wraps every
// keyring row under the root's current key version. Values sealed so far still open;
// re-wrap them with Rewrap to move them onto the new version.
func (v *Vault) Rotate(ctx context.Context) (KEKInfo, error) {
	if v.ring == nil {
		return KEKInfo{}, errors.New("vault: no keyring to rotate")
	}
	if err := v.Refresh(ctx); err != nil {
		return KEKInfo{}, err
	}
	info, err := v.addVersion(ctx)
	if err != nil {
		return KEKInfo{}, err
	}
	return info, v.rewrapKeyring(ctx)
}

// addVersion inserts a KEK version one above the newest and loads it. When another
// replica inserts the same version first, this one tries the next.
func (v *Vault) addVersion(ctx context.Context) (KEKInfo, error) {
	for range 5 {
		version := 1
		v.mu.RLock()
		for _, in := range v.ring.infos {
			version = max(version, in.Version+1)
		}
		v.mu.RUnlock()
		key := make([]byte, 32)
		rand.Read(key)
		kek := newAESKEK("kek"+strconv.Itoa(version)+":", key)
		wrapped, err := v.ring.root.Wrap(ctx, key, keyringAAD(kek.ID()))
		clear(key)
		if err != nil {
			return KEKInfo{}, fmt.Errorf("vault: wrapping the new KEK with the root key: %w", err)
		}
		rec := KEKRecord{ID: kek.ID(), Version: version, Wrapped: wrapped, RootID: v.ring.root.ID(), Created: v.ring.now().UTC()}
		insErr := v.ring.store.InsertKEK(ctx, rec)
		if err := v.Refresh(ctx); err != nil {
			return KEKInfo{}, err
		}
		if insErr == nil {
			return v.info(kek.ID()), nil
		}
	}
	return KEKInfo{}, errors.New("vault: could not add a KEK version: the keyring keeps changing")
}

// rewrapKeyring re-wraps every keyring row under the root's current key version.
func (v *Vault) rewrapKeyring(ctx context.Context) error {
	recs, err := v.ring.store.ListKEKs(ctx)
	if err != nil {
		return fmt.Errorf("vault: reading the keyring: %w", err)
	}
	for _, rec := range recs {
		key, err := v.ring.root.Unwrap(ctx, rec.Wrapped, keyringAAD(rec.ID))
		if err != nil {
			return fmt.Errorf("vault: opening KEK %s: %w", rec.ID, err)
		}
		wrapped, err := v.ring.root.Wrap(ctx, key, keyringAAD(rec.ID))
		clear(key)
		if err != nil {
			return fmt.Errorf("vault: re-wrapping KEK %s: %w", rec.ID, err)
		}
		// A lost race means another replica re-wrapped it at the same time: fine.
		if _, err := v.ring.store.RewrapKEK(ctx, rec.ID, rec.Wrapped, wrapped, v.ring.root.ID()); err != nil {
			return fmt.Errorf("vault: storing KEK %s: %w", rec.ID, err)
		}
	}
	return nil
}

// info returns what the vault knows of KEK id.
func (v *Vault) info(id string) KEKInfo {
	v.mu.RLock()
	defer v.mu.RUnlock()
	in := v.ring.infos[id]
	in.Current = v.current.ID() == id
	return in
}

// KEKs returns the root key and every keyring version, oldest first.
func (v *Vault) KEKs() []KEKInfo {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []KEKInfo
	if v.ring != nil {
		out = append(out, KEKInfo{ID: v.ring.root.ID(), Root: true, Current: v.current.ID() == v.ring.root.ID()})
		for _, in := range v.ring.infos {
			in.Current = v.current.ID() == in.ID
			out = append(out, in)
		}
	} else {
		for id := range v.byID {
			out = append(out, KEKInfo{ID: id, Current: v.current.ID() == id})
		}
	}
	slices.SortFunc(out, func(a, b KEKInfo) int { return a.Version - b.Version })
	return out
}

// Close releases the root key's resources (a KMS client).
func (v *Vault) Close() error {
	if v.ring == nil {
		return nil
	}
	if c, ok := v.ring.root.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}
