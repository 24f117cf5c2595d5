package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/httpclient"
	"github.com/tollgate-llm/tollgate/providers/registry"
	"github.com/tollgate-llm/tollgate/router"
	"github.com/tollgate-llm/tollgate/schema"
	"github.com/tollgate-llm/tollgate/store"
)

// TopicProviders is the invalidation topic of stored providers and their keys.
const TopicProviders = "providers"

// drainWeight is the weight factor of active keys while a key of the same provider
// drains: the draining key keeps weight 1, so it serves a sliver of traffic and stays a
// fallback when the new key fails, until its grace ends.
const drainWeight = 100

// providerState is what the app keeps for stored providers.
type providerState struct {
	// fingerprintKey keys the provider key fingerprints; sealed in the meta table.
	fingerprintKey []byte

	// bus tells other replicas about provider and keyring changes; nil for one replica.
	bus admin.Publisher

	mu     sync.Mutex
	client *http.Client
	timer  *time.Timer // reloads the routes when the next draining key's grace ends
}

// providerClient returns the HTTP client shared by stored providers.
func (a *App) providerClient() *http.Client {
	a.providers.mu.Lock()
	defer a.providers.mu.Unlock()
	if a.providers.client == nil {
		a.providers.client = httpclient.New(httpclient.Options{})
	}
	return a.providers.client
}

// fingerprint returns 16 hex digits of HMAC-SHA256 of a provider key under a secret
// sealed in the vault: stable within this store, useless for guessing the key.
func (a *App) fingerprint(secret string) string {
	mac := hmac.New(sha256.New, a.providers.fingerprintKey)
	mac.Write([]byte(secret))
	return hex.EncodeToString(mac.Sum(nil)[:8])
}

// storedDeployments returns the providers defined through the admin API with their
// usable keys opened from the vault. Opened keys live only in memory, in schema.Secret.
// A key that does not open is left out and logged by id; it never falls back to
// anything.
func (a *App) storedDeployments(ctx context.Context) (map[string]*router.Deployment, error) {
	provs, err := a.Store.ListProviders(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := a.Store.ListProviderKeys(ctx, "")
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make(map[string]*router.Deployment, len(provs))
	for _, p := range provs {
		prov, err := registry.New(providers.Config{Name: p.Name, Type: p.Type, BaseURL: p.BaseURL,
			APIVersion: p.APIVersion, Region: p.Region, Headers: p.Headers, Client: a.providerClient()})
		if err != nil {
			a.log.Warn("stored provider skipped", "provider", p.Name, "error", err)
			continue
		}
		out[p.Name] = &router.Deployment{Name: p.Name, Type: p.Type, Provider: prov}
	}
	var nextDrain time.Time
	for _, k := range keys {
		d := out[k.Provider]
		status := admin.EffectiveStatus(k, now)
		if d == nil || status == admin.KeyDisabled {
			continue
		}
		if status == admin.KeyDraining && (nextDrain.IsZero() || k.DrainUntil.Before(nextDrain)) {
			nextDrain = *k.DrainUntil
		}
		if c, ok := a.openCredential(ctx, k, status); ok {
			d.Keys = append(d.Keys, c)
		}
	}
	for _, d := range out {
		balanceDraining(d)
	}
	a.reloadAt(nextDrain)
	return out, nil
}

// openCredential opens a stored key from the vault.
func (a *App) openCredential(ctx context.Context, k *store.ProviderKey, status string) (router.Credential, bool) {
	plain, err := a.Vault.Open(ctx, k.Secret, admin.ProviderKeyAAD(k.ID))
	if err != nil {
		a.log.Error("provider key does not open; it is not used", "provider", k.Provider, "key_id", k.ID, "error", err)
		return router.Credential{}, false
	}
	defer clear(plain)
	weight := k.Weight
	if status == admin.KeyDraining {
		weight = -1 // Marked for balanceDraining.
	}
	return router.Credential{ID: k.ID, Label: k.Label, Secret: schema.NewSecret(string(plain)), Weight: weight}, true
}

// balanceDraining gives a deployment's draining keys weight 1 and scales its active
// keys by drainWeight, so that the new key takes over while the old one drains.
func balanceDraining(d *router.Deployment) {
	draining := false
	for _, c := range d.Keys {
		draining = draining || c.Weight < 0
	}
	for i := range d.Keys {
		switch c := &d.Keys[i]; {
		case c.Weight < 0:
			c.Weight = 1
		case draining:
			c.Weight *= drainWeight
		}
	}
}

// reloadAt arranges for the routes to be rebuilt at t, when a draining key's grace
// ends; a zero t cancels the arrangement.
func (a *App) reloadAt(t time.Time) {
	a.providers.mu.Lock()
	defer a.providers.mu.Unlock()
	if a.providers.timer != nil {
		a.providers.timer.Stop()
		a.providers.timer = nil
	}
	if t.IsZero() {
		return
	}
	a.providers.timer = time.AfterFunc(time.Until(t)+10*time.Millisecond, func() {
		a.reloadProviders(context.Background())
	})
}

// reloadProviders rebuilds the routes from the config and the stored providers.
func (a *App) reloadProviders(ctx context.Context) {
	if a.onProvidersChanged != nil {
		a.onProvidersChanged(ctx)
	}
}

// providersChanged reloads the routes here and tells the other replicas.
func (a *App) providersChanged(ctx context.Context, name string) {
	a.reloadProviders(ctx)
	if a.providers.bus != nil {
		if err := a.providers.bus.Publish(ctx, TopicProviders, name); err != nil {
			a.log.Warn("could not tell other replicas about a provider change", "provider", name, "error", err)
		}
	}
}

// providerAdmin is the provider admin service.
func (a *App) providerAdmin() *admin.Providers {
	return &admin.Providers{Store: a.Store, Vault: a.Vault, Audit: a.audit, Config: a.cfg,
		Fingerprint: a.fingerprint, Changed: a.providersChanged}
}

var _ admin.TxRecorder = (*audit.Log)(nil)
