package vault

import (
	"context"
	"fmt"
)

// Root key changes. The root only wraps the keyring, so replacing it (a new master key,
// or moving from the master key to a KMS) re-wraps a handful of keyring rows and no
// data: start once with the new root as usual and the old one as
// TOLLGATE_PREVIOUS_MASTER_KEY or TOLLGATE_PREVIOUS_KMS_URL. Rows the new root already
// opens are left alone, so replicas may restart in any order.

// openPrevious returns the previous root key, or nil when none is configured.
func openPrevious(ctx context.Context, opts BootOptions) (KEK, error) {
	switch {
	case opts.PreviousKMSURL != "":
		return OpenKMS(ctx, opts.PreviousKMSURL, opts.Getenv)
	case opts.PreviousMasterKey != "":
		key, err := decodeMasterKey(opts.PreviousMasterKey, "TOLLGATE_PREVIOUS_MASTER_KEY")
		if err != nil {
			return nil, err
		}
		defer clear(key)
		return NewLocalKEK(key)
	}
	return nil, nil
}

// rekey re-wraps under the current root every keyring row that only the previous root
// opens, then loads the keyring. cause is why the current root alone could not load it,
// returned as is when there is no previous root.
func (v *Vault) rekey(ctx context.Context, recs []KEKRecord, opts BootOptions, cause error) ([]KEKRecord, error) {
	prev, err := openPrevious(ctx, opts)
	if err != nil || prev == nil {
		return nil, firstErr(err, cause)
	}
	if c, ok := prev.(interface{ Close() error }); ok {
		defer c.Close()
	}
	root := v.ring.root
	for _, rec := range recs {
		aad := keyringAAD(rec.ID)
		if key, err := root.Unwrap(ctx, rec.Wrapped, aad); err == nil {
			clear(key)
			continue
		}
		key, err := prev.Unwrap(ctx, rec.Wrapped, aad)
		if err != nil {
			return nil, fmt.Errorf("neither the root key nor the previous one (%s) opens KEK %s: %w", prev.ID(), rec.ID, err)
		}
		wrapped, err := root.Wrap(ctx, key, aad)
		clear(key)
		if err != nil {
			return nil, fmt.Errorf("re-wrapping KEK %s under the new root: %w", rec.ID, err)
		}
		if _, err := v.ring.store.RewrapKEK(ctx, rec.ID, rec.Wrapped, wrapped, root.ID()); err != nil {
			return nil, err
		}
	}
	if recs, err = v.ring.store.ListKEKs(ctx); err != nil {
		return nil, err
	}
	return recs, v.load(ctx, recs)
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
