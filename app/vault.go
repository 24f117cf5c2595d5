package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/server"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/vault"
)

// Names of the meta rows holding secrets sealed by the vault.
const (
	auditSecretName       = "audit_secret"
	fingerprintSecretName = "fingerprint_secret"
)

// openVault boots the vault from the KMS or master key, failing closed, and opens the
// audit log and the provider key fingerprints, whose keys the vault keeps.
func (a *App) openVault(ctx context.Context, o Options) (err error) {
	a.Vault, err = vault.Boot(ctx, vaultStore{a.Store}, vault.BootOptions{
		KMSURL: o.Getenv("TOLLGATE_KMS_URL"), Getenv: o.Getenv, MasterKey: o.Getenv("TOLLGATE_MASTER_KEY"),
		PreviousKMSURL: o.Getenv("TOLLGATE_PREVIOUS_KMS_URL"), PreviousMasterKey: o.Getenv("TOLLGATE_PREVIOUS_MASTER_KEY"),
		KeyFile: o.KeyFile, IsNotFound: func(err error) bool { return errors.Is(err, store.ErrNotFound) },
		Notice: func(msg string) { fmt.Fprintf(o.Notice, "\n*** %s ***\n\n", msg); o.Log.Warn(msg) }})
	if err != nil {
		return err
	}
	a.closer = append(a.closer, a.Vault.Close, func() error { a.reloadAt(time.Time{}); return nil })
	key, err := sealedMetaSecret(ctx, a.Store, a.Vault, auditSecretName)
	if err != nil {
		return fmt.Errorf("opening the audit log: %w", err)
	}
	defer clear(key)
	if a.audit, err = audit.New(a.Store, key, audit.WithLogger(a.log)); err != nil {
		return err
	}
	a.providers.fingerprintKey, err = sealedMetaSecret(ctx, a.Store, a.Vault, fingerprintSecretName)
	return err
}

// vaultStore adapts the store to the vault's keyring.
type vaultStore struct{ *store.DB }

func (s vaultStore) ListKEKs(ctx context.Context) ([]vault.KEKRecord, error) {
	rows, err := s.DB.ListKEKs(ctx)
	out := make([]vault.KEKRecord, 0, len(rows))
	for _, r := range rows {
		out = append(out, vault.KEKRecord{ID: r.ID, Version: r.Version, Wrapped: r.Wrapped, RootID: r.RootID, Created: r.CreatedAt})
	}
	return out, err
}

func (s vaultStore) InsertKEK(ctx context.Context, r vault.KEKRecord) error {
	return s.DB.InsertKEK(ctx, store.KEKRow{ID: r.ID, Version: r.Version, Wrapped: r.Wrapped, RootID: r.RootID, CreatedAt: r.Created})
}

// auditor returns the audit log every admin action is recorded in.
func (a *App) auditor() *audit.Log { return a.audit }

// sealedMetaSecret returns the 32-byte random secret sealed in the meta row name,
// creating it on first use. Replicas starting at once agree on the first one stored.
func sealedMetaSecret(ctx context.Context, db *store.DB, v *vault.Vault, name string) ([]byte, error) {
	aad := vault.RowAAD("meta", name, "value")
	sealed, err := db.GetMeta(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		s := make([]byte, 32)
		rand.Read(s)
		sealed, err = v.Seal(ctx, s, aad)
		clear(s)
		if err != nil {
			return nil, err
		}
		sealed, err = db.PutMetaIfAbsent(ctx, name, sealed)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	secret, err := v.Open(ctx, sealed, aad)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", name, err)
	}
	return secret, nil
}

// vaultDeps are the server's provider, vault and audit collaborators. It also hooks the
// vault and the stored providers to the invalidation bus, which exists by now.
func (a *App) vaultDeps() server.VaultDeps {
	a.watchVault()
	return server.VaultDeps{Audit: a.audit, Vault: a.vaultAdmin(), Providers: a.providerAdmin()}
}

// watchVault subscribes to the changes other replicas make: a new KEK version (load it
// and seal with it) and stored providers (rebuild the routes).
func (a *App) watchVault() {
	if a.lifecycle == nil || a.lifecycle.bus == nil {
		return
	}
	a.providers.bus = a.lifecycle.bus
	a.lifecycle.bus.Subscribe(admin.TopicVault, func(string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Vault.Refresh(ctx); err != nil {
			a.log.Warn("could not load the new KEK version; it loads when first needed", "error", err)
		}
	})
	a.lifecycle.bus.Subscribe(TopicProviders, func(string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.reloadProviders(ctx)
	})
}

// vaultAdmin is the vault admin service.
func (a *App) vaultAdmin() *admin.Vault {
	source := "master_key"
	if a.cfg != nil && strings.HasPrefix(a.Vault.Root(), "kms:") {
		source = "kms"
	}
	return &admin.Vault{Keyring: a.Vault, Store: a.Store, Audit: a.audit, Bus: a.providers.bus, RootSource: source}
}
