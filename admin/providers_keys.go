package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/schema"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/vault"
)

// Provider key statuses.
const (
	KeyActive   = "active"
	KeyDraining = "draining"
	KeyDisabled = "disabled"
)

// DefaultKeyGrace is how long a rotated provider key keeps draining when the request
// names no grace.
const DefaultKeyGrace = time.Hour

// SecretInput is a secret in a request body. It decodes from a JSON string and, being a
// schema.Secret, never prints, logs or encodes its value.
type SecretInput struct{ schema.Secret }

// UnmarshalJSON reads a JSON string.
func (s *SecretInput) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return apierr.InvalidValue("secret", "secret must be a string")
	}
	s.Secret = schema.NewSecret(strings.TrimSpace(v))
	return nil
}

// KeyRequest is the body of POST /providers/{name}/keys, PATCH .../keys/{id} (weight,
// status, label) and POST .../keys/{id}/rotate (secret, grace).
type KeyRequest struct {
	Secret SecretInput `json:"secret"`
	Label  *string     `json:"label"`
	Weight *int        `json:"weight"`
	Status *string     `json:"status"`
	// Grace is a Go duration ("24h", "0s").
	Grace *string `json:"grace"`
}

// KeyView is a provider key as the admin API shows it: never the secret.
type KeyView struct {
	ID          string     `json:"id"`
	Provider    string     `json:"provider"`
	Label       string     `json:"label,omitempty"`
	Fingerprint string     `json:"fingerprint,omitempty"`
	Hint        string     `json:"hint,omitempty"`
	Weight      int        `json:"weight"`
	Status      string     `json:"status"`
	DrainUntil  *time.Time `json:"drain_until,omitempty"`
	ReplacedBy  string     `json:"replaced_by,omitempty"`
	Source      string     `json:"source"`
	// SecretRef is where a config file key is read from ("env:OPENAI_API_KEY").
	SecretRef string     `json:"secret_ref,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
}

// EffectiveStatus is a stored key's status now: a draining key whose grace has ended
// is disabled.
func EffectiveStatus(k *store.ProviderKey, now time.Time) string {
	if k.Status == KeyDraining && k.DrainUntil != nil && !now.Before(*k.DrainUntil) {
		return KeyDisabled
	}
	return k.Status
}

// ProviderKeyAAD binds a sealed provider key to its row.
func ProviderKeyAAD(id string) []byte { return vault.RowAAD("provider_keys", id, "secret") }

// Hint returns a display form of a provider key that reveals no more than its well-known
// prefix and its last four characters: "sk-proj-…abcd". Short keys show less.
func Hint(secret string) string {
	if len(secret) < 16 {
		return "…"
	}
	prefix := ""
	if i := strings.LastIndexAny(secret[:min(12, len(secret)-12)], "-_"); i >= 0 {
		prefix = secret[:i+1]
	}
	return prefix + "…" + secret[len(secret)-4:]
}

// ListKeys returns a provider's keys.
func (s *Providers) ListKeys(ctx context.Context, provider string) ([]KeyView, error) {
	if p, ok := s.configProvider(provider); ok {
		return configKeyViews(p), nil
	}
	if _, err := s.getStored(ctx, provider); err != nil {
		return nil, err
	}
	keys, err := s.Store.ListProviderKeys(ctx, provider)
	if err != nil {
		return nil, err
	}
	out := make([]KeyView, 0, len(keys))
	for _, k := range keys {
		out = append(out, s.keyView(k))
	}
	return out, nil
}

// AddKey seals and stores a new key of provider.
func (s *Providers) AddKey(ctx context.Context, provider string, req KeyRequest, by audit.Actor) (KeyView, error) {
	if _, ok := s.configProvider(provider); ok {
		return KeyView{}, s.readOnly(provider)
	}
	if _, err := s.getStored(ctx, provider); err != nil {
		return KeyView{}, err
	}
	k := &store.ProviderKey{Provider: provider, Weight: 1, Status: KeyActive}
	if err := applyKey(k, req); err != nil {
		return KeyView{}, err
	}
	if err := s.sealKey(ctx, k, req.Secret); err != nil {
		return KeyView{}, err
	}
	err := s.commit(ctx, audit.Event{Actor: by, Action: "provider_key.add", Target: "provider_key:" + k.ID,
		Details: map[string]any{"provider": provider, "label": k.Label, "fingerprint": k.Fingerprint, "hint": k.Hint, "weight": k.Weight}}, func(tx *store.Tx) error {
		return tx.CreateProviderKey(ctx, k)
	})
	if err != nil {
		return KeyView{}, notFoundAs(err, "no provider named '"+provider+"'")
	}
	s.changed(ctx, provider)
	return s.keyView(k), nil
}

// sealKey gives k a fresh id and seals secret into it.
func (s *Providers) sealKey(ctx context.Context, k *store.ProviderKey, secret SecretInput) error {
	if secret.Empty() {
		return apierr.MissingField("secret")
	}
	var b [8]byte
	rand.Read(b[:])
	k.ID = "pk_" + hex.EncodeToString(b[:])
	plain := []byte(secret.Reveal())
	defer clear(plain)
	sealed, err := s.Vault.Seal(ctx, plain, ProviderKeyAAD(k.ID))
	if err != nil {
		return fmt.Errorf("sealing the provider key: %w", err)
	}
	k.Secret, k.Fingerprint, k.Hint = sealed, s.Fingerprint(secret.Reveal()), Hint(secret.Reveal())
	return nil
}

// applyKey copies req's label, weight and status into k and validates them.
func applyKey(k *store.ProviderKey, req KeyRequest) error {
	if req.Label != nil {
		k.Label = strings.TrimSpace(*req.Label)
	}
	if req.Weight != nil {
		if *req.Weight < 1 || *req.Weight > 1000 {
			return apierr.InvalidValue("weight", "weight must be from 1 to 1000")
		}
		k.Weight = *req.Weight
	}
	if req.Status != nil {
		if *req.Status != KeyActive && *req.Status != KeyDisabled {
			return apierr.InvalidValue("status", "status must be 'active' or 'disabled'")
		}
		k.Status, k.DrainUntil = *req.Status, nil
	}
	return nil
}

// key returns the stored key id of provider.
func (s *Providers) key(ctx context.Context, provider, id string) (*store.ProviderKey, error) {
	if _, ok := s.configProvider(provider); ok {
		return nil, s.readOnly(provider)
	}
	k, err := s.Store.GetProviderKey(ctx, id)
	if err != nil || k.Provider != provider {
		return nil, notFoundAs(store.ErrNotFound, fmt.Sprintf("provider '%s' has no key '%s'", provider, id))
	}
	return k, nil
}

// UpdateKey changes a key's label, weight or status.
func (s *Providers) UpdateKey(ctx context.Context, provider, id string, req KeyRequest, by audit.Actor) (KeyView, error) {
	if !req.Secret.Empty() {
		return KeyView{}, apierr.InvalidValue("secret", "a key's secret cannot be changed; rotate the key instead")
	}
	k, err := s.key(ctx, provider, id)
	if err != nil {
		return KeyView{}, err
	}
	if err := applyKey(k, req); err != nil {
		return KeyView{}, err
	}
	err = s.commit(ctx, audit.Event{Actor: by, Action: "provider_key.update", Target: "provider_key:" + id,
		Details: map[string]any{"provider": provider, "label": k.Label, "weight": k.Weight, "status": k.Status}}, func(tx *store.Tx) error {
		return tx.UpdateProviderKey(ctx, k)
	})
	if err != nil {
		return KeyView{}, notFoundAs(err, "provider '"+provider+"' has no key '"+id+"'")
	}
	s.changed(ctx, provider)
	return s.keyView(k), nil
}

// DeleteKey removes a key.
func (s *Providers) DeleteKey(ctx context.Context, provider, id string, by audit.Actor) error {
	k, err := s.key(ctx, provider, id)
	if err != nil {
		return err
	}
	err = s.commit(ctx, audit.Event{Actor: by, Action: "provider_key.delete", Target: "provider_key:" + id,
		Details: map[string]any{"provider": provider, "fingerprint": k.Fingerprint, "hint": k.Hint}}, func(tx *store.Tx) error {
		return tx.DeleteProviderKey(ctx, id)
	})
	if err != nil {
		return notFoundAs(err, "provider '"+provider+"' has no key '"+id+"'")
	}
	s.changed(ctx, provider)
	return nil
}

// RotateKey adds req.Secret as a new key with the old key's label and weight; the old
// key drains (is still used, as a fallback) until the grace ends, then is disabled.
func (s *Providers) RotateKey(ctx context.Context, provider, id string, req KeyRequest, by audit.Actor) (KeyView, error) {
	old, err := s.key(ctx, provider, id)
	if err != nil {
		return KeyView{}, err
	}
	grace := DefaultKeyGrace
	if req.Grace != nil {
		d, err := configs.ParseDuration(*req.Grace)
		if err != nil || d < 0 {
			return KeyView{}, apierr.InvalidValue("grace", "grace must be a duration such as '24h' or '0s'")
		}
		grace = d.Std()
	}
	nk := &store.ProviderKey{Provider: provider, Label: old.Label, Weight: old.Weight, Status: KeyActive}
	if err := applyKey(nk, KeyRequest{Label: req.Label, Weight: req.Weight}); err != nil {
		return KeyView{}, err
	}
	if err := s.sealKey(ctx, nk, req.Secret); err != nil {
		return KeyView{}, err
	}
	until := s.now().Add(grace)
	old.Status, old.DrainUntil, old.ReplacedBy = KeyDraining, &until, nk.ID
	if grace == 0 {
		old.Status, old.DrainUntil = KeyDisabled, nil
	}
	err = s.commit(ctx, audit.Event{Actor: by, Action: "provider_key.rotate", Target: "provider_key:" + id,
		Details: map[string]any{"provider": provider, "new_key": nk.ID, "fingerprint": nk.Fingerprint,
			"hint": nk.Hint, "grace": grace.String()}}, func(tx *store.Tx) error {
		if err := tx.CreateProviderKey(ctx, nk); err != nil {
			return err
		}
		return tx.UpdateProviderKey(ctx, old)
	})
	if err != nil {
		return KeyView{}, notFoundAs(err, "provider '"+provider+"' has no key '"+id+"'")
	}
	s.changed(ctx, provider)
	return s.keyView(nk), nil
}

func (s *Providers) keyView(k *store.ProviderKey) KeyView {
	return KeyView{ID: k.ID, Provider: k.Provider, Label: k.Label, Fingerprint: k.Fingerprint, Hint: k.Hint,
		Weight: k.Weight, Status: EffectiveStatus(k, s.now()), DrainUntil: k.DrainUntil, ReplacedBy: k.ReplacedBy,
		Source: "api", CreatedAt: &k.CreatedAt}
}

func configKeyViews(p configs.Provider) []KeyView {
	out := make([]KeyView, 0, len(p.Keys))
	for j, k := range p.Keys {
		out = append(out, KeyView{ID: fmt.Sprintf("%s#%d", p.Name, j), Provider: p.Name, Label: k.Label,
			Weight: max(k.Weight, 1), Status: KeyActive, Source: "config", SecretRef: k.Secret.String()})
	}
	return out
}
