package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/store"
)

// changeable loads a client key that may still change: not ephemeral, not revoked.
func (k *Keys) changeable(ctx context.Context, id, what string) (*store.Key, error) {
	r, err := k.load(ctx, id)
	switch {
	case err != nil:
		return nil, err
	case r.Kind == string(keys.KindEphemeral):
		return nil, conflict("Ephemeral keys cannot be " + what + "; mint a new one instead.")
	case r.Status == "revoked":
		return nil, conflict("Revoked keys cannot be " + what + ": revocation is permanent.")
	}
	return r, nil
}

// write stores a changed row on condition that nobody changed it since it was read,
// auditing first, and publishes the change.
func (k *Keys) write(ctx context.Context, ev audit.Event, r *store.Key) error {
	prev := r.UpdatedAt
	err := k.audited(ctx, ev, func() error { return k.store.UpdateKeyIf(ctx, r, prev) })
	if errors.Is(err, store.ErrConflict) {
		return conflict("The key changed while this request was applied; read it again and retry.")
	}
	if err != nil {
		return fmt.Errorf("updating key %s: %w", r.ID, err)
	}
	k.publish(ctx, r.ID)
	return nil
}

func keyEvent(actor audit.Actor, action, id string, details map[string]any) audit.Event {
	return audit.Event{Actor: actor, Action: action, Target: "key:" + id, Details: details}
}

// Update changes the fields present in p.
func (k *Keys) Update(ctx context.Context, actor audit.Actor, id string, p keys.Patch) (keys.KeyView, error) {
	r, err := k.changeable(ctx, id, "changed")
	if err != nil {
		return keys.KeyView{}, err
	}
	if err := keys.ApplyPatch(r, p, k.now()); err != nil {
		return keys.KeyView{}, err
	}
	if err := k.write(ctx, keyEvent(actor, "key.update", id, map[string]any{"fields": p.Fields()}), r); err != nil {
		return keys.KeyView{}, err
	}
	return keys.View(r)
}

// Rotate gives a key a new secret; the old one works for grace more. The view holds
// the new key, shown once.
func (k *Keys) Rotate(ctx context.Context, actor audit.Actor, id, grace string) (keys.KeyView, error) {
	d, err := keys.ParseGrace(grace)
	if err != nil {
		return keys.KeyView{}, err
	}
	r, err := k.changeable(ctx, id, "rotated")
	if err != nil {
		return keys.KeyView{}, err
	}
	key, err := keys.Rotate(k.Hasher, r, d, k.now())
	if err != nil {
		return keys.KeyView{}, err
	}
	if err := k.write(ctx, keyEvent(actor, "key.rotate", id, map[string]any{"grace": d.String()}), r); err != nil {
		return keys.KeyView{}, err
	}
	v, err := keys.View(r)
	v.Key = key
	return v, err
}

// SetStatus disables a key (reversibly) or enables it again.
func (k *Keys) SetStatus(ctx context.Context, actor audit.Actor, id string, enable bool) (keys.KeyView, error) {
	action, status, what := "key.disable", "disabled", "disabled"
	if enable {
		action, status, what = "key.enable", "active", "enabled"
	}
	r, err := k.load(ctx, id)
	if err == nil && r.Status == "revoked" {
		err = conflict("Revoked keys cannot be " + what + ": revocation is permanent.")
	}
	if err != nil {
		return keys.KeyView{}, err
	}
	r.Status = status
	if err := k.write(ctx, keyEvent(actor, action, id, nil), r); err != nil {
		return keys.KeyView{}, err
	}
	return keys.View(r)
}

// Revoke revokes a key and its ephemeral children, permanently.
func (k *Keys) Revoke(ctx context.Context, actor audit.Actor, id, reason string) (keys.KeyView, error) {
	if _, err := k.load(ctx, id); err != nil {
		return keys.KeyView{}, err
	}
	ev := keyEvent(actor, "key.revoke", id, map[string]any{"reason": reason})
	if _, err := k.revoke(ctx, ev, store.KeySelector{ID: id}, reason); err != nil {
		return keys.KeyView{}, err
	}
	return k.Get(ctx, id)
}

// revoke audits ev, revokes what sel picks and publishes every key revoked.
func (k *Keys) revoke(ctx context.Context, ev audit.Event, sel store.KeySelector, reason string) ([]string, error) {
	ids := []string{}
	err := k.audited(ctx, ev, func() (err error) {
		ids, err = k.store.RevokeKeys(ctx, sel, reason)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("revoking keys: %w", err)
	}
	k.publish(ctx, ids...)
	return ids, nil
}

// BulkRevoke is the body of POST /admin/v1/keys/revoke: exactly one of owner, project
// or created_by, and a reason.
type BulkRevoke struct {
	Owner     string `json:"owner,omitempty"`
	Project   string `json:"project,omitempty"`
	CreatedBy string `json:"created_by,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// BulkResult is the answer to a bulk revocation.
type BulkResult struct {
	Revoked int      `json:"revoked"`
	IDs     []string `json:"ids"`
}

// RevokeBulk revokes every key of an owner, a project or a creator, and their children.
func (k *Keys) RevokeBulk(ctx context.Context, actor audit.Actor, b BulkRevoke) (BulkResult, error) {
	n := 0
	for _, v := range []string{b.Owner, b.Project, b.CreatedBy} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return BulkResult{}, apierr.InvalidValue("owner", "give exactly one of owner, project or created_by")
	}
	sel := store.KeySelector{Owner: b.Owner, Project: b.Project, CreatedBy: b.CreatedBy}
	ev := audit.Event{Actor: actor, Action: "key.bulk_revoke", Target: bulkTarget(b),
		Details: map[string]any{"reason": b.Reason}}
	ids, err := k.revoke(ctx, ev, sel, b.Reason)
	if err != nil {
		return BulkResult{}, err
	}
	if ids == nil {
		ids = []string{}
	}
	return BulkResult{Revoked: len(ids), IDs: ids}, nil
}

func bulkTarget(b BulkRevoke) string {
	switch {
	case b.Owner != "":
		return "owner:" + b.Owner
	case b.Project != "":
		return "project:" + b.Project
	}
	return "created_by:" + b.CreatedBy
}

// Delete removes a key: it stops working everywhere and disappears from the API; its
// spend history stays. Its ephemeral children are revoked.
func (k *Keys) Delete(ctx context.Context, actor audit.Actor, id string) error {
	if _, err := k.load(ctx, id); err != nil {
		return err
	}
	var ids []string
	err := k.audited(ctx, keyEvent(actor, "key.delete", id, nil), func() (err error) {
		ids, err = k.store.RemoveKey(ctx, id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return keyNotFound(id)
	}
	if err != nil {
		return fmt.Errorf("deleting key %s: %w", id, err)
	}
	k.publish(ctx, ids...)
	return nil
}
