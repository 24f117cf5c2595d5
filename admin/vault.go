package admin

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/vault"
)

// Keyring is the vault as KEK rotation and status use it.
type Keyring interface {
	Rotate(ctx context.Context) (vault.KEKInfo, error)
	Refresh(ctx context.Context) error
	Rewrap(ctx context.Context, sealed, aad []byte) ([]byte, error)
	Open(ctx context.Context, sealed, aad []byte) ([]byte, error)
	KEKs() []vault.KEKInfo
	CurrentKEK() string
}

// SealedStore enumerates and replaces the store's sealed values.
type SealedStore interface {
	SealedValues(ctx context.Context) ([]store.SealedValue, error)
	ReplaceSealed(ctx context.Context, ref store.SealedRef, old, value []byte) (bool, error)
}

// TopicVault is the invalidation topic of the keyring: replicas that receive it load the
// new KEK version and seal with it.
const TopicVault = "vault"

// Vault is the admin service of the vault: status and online KEK rotation.
type Vault struct {
	Keyring Keyring
	Store   SealedStore
	Audit   Auditor
	// Bus tells other replicas about a new KEK version; nil for a single replica.
	Bus Publisher
	// RootSource says where the root key comes from: "master_key" or "kms".
	RootSource string
	// Pause is the wait between rewrap passes, letting replicas that sealed a value
	// under the old KEK before they heard of the new one finish; default 200ms.
	Pause time.Duration
}

// KEKStatus is one KEK and the number of sealed values under it.
type KEKStatus struct {
	vault.KEKInfo
	Rows int `json:"rows"`
}

// VaultStatus is the answer of GET /vault/status.
type VaultStatus struct {
	RootSource string      `json:"root_source"`
	CurrentKEK string      `json:"current_kek"`
	KEKs       []KEKStatus `json:"keks"`
	// RowsByKEK counts the sealed values per KEK id, including ids the vault does not
	// know (which would not open).
	RowsByKEK map[string]int `json:"rows_by_kek"`
	// Unreadable counts values that are not in a sealed format at all; Unopenable
	// those in the format that the vault cannot open (tampered, moved, or under an
	// unknown KEK). Both are 0 in a healthy store.
	Unreadable int `json:"unreadable"`
	Unopenable int `json:"unopenable"`
	Total      int `json:"total"`
}

// Status counts the sealed values in the store per KEK, and checks that each opens.
func (s *Vault) Status(ctx context.Context) (VaultStatus, error) {
	if err := s.Keyring.Refresh(ctx); err != nil {
		return VaultStatus{}, err
	}
	values, err := s.Store.SealedValues(ctx)
	if err != nil {
		return VaultStatus{}, err
	}
	st := VaultStatus{RootSource: s.RootSource, CurrentKEK: s.Keyring.CurrentKEK(), RowsByKEK: map[string]int{}}
	for _, v := range values {
		id, err := vault.KEKOf(v.Value)
		if err != nil {
			st.Unreadable++
			continue
		}
		st.RowsByKEK[id]++
		if plain, err := s.Keyring.Open(ctx, v.Value, vault.RowAAD(v.Table, v.Row, v.Column)); err != nil {
			st.Unopenable++
		} else {
			clear(plain)
		}
	}
	for _, k := range s.Keyring.KEKs() {
		st.KEKs = append(st.KEKs, KEKStatus{KEKInfo: k, Rows: st.RowsByKEK[k.ID]})
	}
	st.Total = len(values)
	return st, nil
}

// RotateResult is the answer of POST /vault/rotate.
type RotateResult struct {
	KEK         vault.KEKInfo `json:"kek"`
	PreviousKEK string        `json:"previous_kek"`
	// Rewrapped is the number of values moved onto the new KEK; Remaining the number
	// still under another KEK when rotation ended (0 unless values kept changing).
	Rewrapped int `json:"rewrapped"`
	Remaining int `json:"remaining"`
	Passes    int `json:"passes"`
}

// maxPasses bounds the rewrap passes of one rotation.
const maxPasses = 5

// Rotate adds a new KEK version and rewraps every sealed value onto it, online: values
// open under either KEK throughout, and a value changed meanwhile is picked up by the
// next pass. The rotation is audited before it starts; if the audit row cannot be
// written, nothing is rotated.
func (s *Vault) Rotate(ctx context.Context, by audit.Actor) (RotateResult, error) {
	res := RotateResult{PreviousKEK: s.Keyring.CurrentKEK()}
	err := s.Audit.Record(ctx, audit.Event{Actor: by, Action: "vault.rotate", Target: "vault",
		Details: map[string]any{"previous_kek": res.PreviousKEK, "root_source": s.RootSource}})
	if err != nil {
		return res, auditUnavailable(err)
	}
	if res.KEK, err = s.Keyring.Rotate(ctx); err != nil {
		return res, err
	}
	if s.Bus != nil {
		// A replica that misses this still loads the version when it first meets it.
		_ = s.Bus.Publish(ctx, TopicVault, res.KEK.ID)
	}
	pause := s.Pause
	if pause <= 0 {
		pause = 200 * time.Millisecond
	}
	// Passes repeat until one finds nothing left under an old KEK: values changed during
	// a pass, or sealed by a replica that had not yet heard of the new version, are
	// caught by the next.
	for res.Passes < maxPasses {
		res.Passes++
		moved, found, err := s.rewrapPass(ctx)
		res.Rewrapped += moved
		res.Remaining = found - moved
		if err != nil || found == 0 {
			return res, err
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(pause):
		}
	}
	return res, nil
}

// rewrapPass rewraps every value not under the current KEK, and returns how many it
// moved and how many it found.
func (s *Vault) rewrapPass(ctx context.Context) (moved, found int, err error) {
	values, err := s.Store.SealedValues(ctx)
	if err != nil {
		return 0, 0, err
	}
	current := s.Keyring.CurrentKEK()
	for _, v := range values {
		if id, _ := vault.KEKOf(v.Value); id == current {
			continue
		}
		found++
		aad := vault.RowAAD(v.Table, v.Row, v.Column)
		re, err := s.Keyring.Rewrap(ctx, v.Value, aad)
		if err != nil {
			return moved, found, fmt.Errorf("rewrapping %s %q %s: %w", v.Table, v.Row, v.Column, err)
		}
		ok, err := s.Store.ReplaceSealed(ctx, v.SealedRef, v.Value, re)
		if err != nil {
			return moved, found, err
		}
		if ok {
			moved++
		}
	}
	return moved, found, nil
}
