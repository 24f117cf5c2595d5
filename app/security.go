package app

import (
	"fmt"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/server"
)

// tokenAlerts builds the leaked-token service behind POST
// /admin/v1/security/token-alerts from security.token_alert_keys, or returns nil (no
// such route) when none are configured. A key that cannot be read or is not an ECDSA
// P-256 public key stops the start: a report could never be verified against it.
func (a *App) tokenAlerts() (server.TokenAlertService, error) {
	ks := a.cfg.Security.TokenAlertKeys
	if len(ks) == 0 {
		return nil, nil
	}
	pems := make(map[string][]byte, len(ks))
	for i, k := range ks {
		data, err := k.Read()
		if err != nil {
			return nil, fmt.Errorf("security.token_alert_keys[%d]: %w", i, err)
		}
		pems[k.ID] = data
	}
	keys, err := admin.ParseAlertKeys(pems)
	if err != nil {
		return nil, fmt.Errorf("security.token_alert_keys: %w", err)
	}
	a.log.Info("leaked-token reports accepted at /admin/v1/security/token-alerts", "signing_keys", keys.Len())
	return admin.NewLeaks(a.lifecycle.keys, a.lifecycle.tokens, keys), nil
}
