package admin

import (
	"context"
	"log/slog"

	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/router"
	"github.com/tollgate-llm/tollgate/store"
)

// KeyStateStore is the store as KeyHealth uses it.
type KeyStateStore interface {
	GetProviderKey(ctx context.Context, id string) (*store.ProviderKey, error)
	WriteTx(ctx context.Context, fn func(tx *store.Tx) error) error
}

// KeyHealth records the provider keys the router found rejected (401 or 403). A key
// stored through the API gets status disabled, so that every replica stops using it
// and an operator sees it in the key list; a config-file key stays disabled in this
// process's memory until it restarts. Either way the audit log gets a
// "provider_key.disable" event by the system, naming the key by id, never by value.
type KeyHealth struct {
	Store KeyStateStore
	Audit TxRecorder
	// Changed is called after a stored key was disabled, with its provider's name: it
	// rebuilds the routes here and tells the other replicas.
	Changed func(ctx context.Context, provider string)
	Log     *slog.Logger
}

var _ router.KeyHealth = (*KeyHealth)(nil)

// Disable records that the upstream of deployment rejected the key credentialID with
// status.
func (h *KeyHealth) Disable(ctx context.Context, deployment, credentialID string, status int) {
	k, err := h.Store.GetProviderKey(ctx, credentialID)
	stored := err == nil && k.Provider == deployment
	source := "config"
	if stored {
		source = "api"
	}
	ev := audit.Event{Actor: audit.Actor{ID: "system", Name: "router"}, Action: "provider_key.disable",
		Target: "provider_key:" + credentialID,
		Details: map[string]any{"provider": deployment, "upstream_status": status, "source": source,
			"reason": "the upstream rejected the key"}}
	if h.Audit == nil {
		h.Log.Error("provider key disabled but not audited: no audit log", "provider", deployment, "key_id", credentialID)
		return
	}
	err = h.Store.WriteTx(ctx, func(tx *store.Tx) error {
		if stored {
			k.Status = KeyDisabled
			if err := tx.UpdateProviderKey(ctx, k); err != nil {
				return err
			}
		}
		return h.Audit.RecordTx(ctx, tx, ev)
	})
	if err != nil {
		h.Log.Error("recording a disabled provider key failed; it stays disabled in memory", "provider", deployment,
			"key_id", credentialID, "error", err)
		return
	}
	if stored && h.Changed != nil {
		h.Changed(ctx, deployment)
	}
}
