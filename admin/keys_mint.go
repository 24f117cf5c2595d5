package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/store"
)

// Mint makes an ephemeral child of the calling client key (see keys.NewChildKey); the
// view holds the child key, shown once. The actor is the parent key.
func (k *Keys) Mint(ctx context.Context, actor audit.Actor, parent *keys.Principal, req keys.MintRequest) (keys.MintView, error) {
	for range 3 {
		r, v, err := keys.NewChildKey(k.Hasher, parent, req, k.now())
		if err != nil {
			return keys.MintView{}, err
		}
		ev := audit.Event{Actor: actor, Action: "key.mint", Target: "key:" + r.ID, Details: map[string]any{
			"parent_id": parent.ID, "expires_at": v.ExpiresAt, "models": v.Models, "endpoints": v.Endpoints,
			"allowed_ips": v.AllowedIPs, "max_cost_usd": v.MaxCostUSD, "max_requests": v.MaxRequests}}
		err = k.audited(ctx, ev, func() error { return k.store.CreateKey(ctx, r) })
		if errors.Is(err, store.ErrConflict) {
			continue // a 71-bit id collision; draw again
		}
		if err != nil {
			return keys.MintView{}, fmt.Errorf("minting key: %w", err)
		}
		return v, nil
	}
	return keys.MintView{}, errors.New("minting key: id collisions")
}
