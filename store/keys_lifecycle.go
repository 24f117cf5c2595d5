package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// RevokeKeys revokes, permanently, the active or disabled client and ephemeral keys that
// sel picks, together with every ephemeral child of a client key it picks (whatever the
// parent's own status), in one statement. It returns the ids it changed; revoking keys
// already revoked changes nothing. An empty selector is refused: nothing revokes every
// key at once.
func (db *DB) RevokeKeys(ctx context.Context, sel KeySelector, reason string) ([]string, error) {
	cond, args := selectorCond(sel)
	if cond == "" {
		return nil, errors.New("revoking keys: empty selector")
	}
	now := db.nowNanos()
	query := `UPDATE keys SET status = 'revoked', revoked_at = ?, updated_at = ?, revoke_reason = ?
		WHERE status IN ('active', 'disabled') AND kind IN ('client', 'ephemeral')
		AND ((` + cond + `) OR (kind = 'ephemeral' AND parent_id IN
			(SELECT id FROM keys WHERE kind = 'client' AND ` + cond + `)))
		RETURNING id`
	all := append([]any{now, now, reason}, args...)
	all = append(all, args...)
	ids, err := queryIDs(ctx, db.db, db.Rebind(query), all...)
	if err != nil {
		return nil, fmt.Errorf("revoking keys: %w", err)
	}
	return ids, nil
}

// selectorCond returns the SQL condition and arguments of sel's non-empty fields.
func selectorCond(sel KeySelector) (string, []any) {
	var conds []string
	var args []any
	for _, c := range []struct{ col, value string }{
		{"id", sel.ID}, {"owner", sel.Owner}, {"project", sel.Project}, {"created_by", sel.CreatedBy},
	} {
		if c.value != "" {
			conds = append(conds, c.col+" = ?")
			args = append(args, c.value)
		}
	}
	return strings.Join(conds, " AND "), args
}

// querier is what queryIDs needs of a *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryIDs runs a statement that returns one id per row.
func queryIDs(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// RemoveKey turns the key with id into a tombstone (status "deleted") and revokes its
// ephemeral children, in one transaction. It returns the ids it changed, the key's own
// first, or ErrNotFound when there is no such key or it is already deleted. The row stays
// so that the id is never reused, the spend history keeps its name, and every replica
// sees the change when it polls for changed keys.
func (db *DB) RemoveKey(ctx context.Context, id string) ([]string, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("removing key %q: %w", id, err)
	}
	defer tx.Rollback() // A no-op once committed.
	now := db.nowNanos()
	res, err := tx.ExecContext(ctx, db.Rebind(`UPDATE keys SET status = 'deleted', updated_at = ?,
		revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND status <> 'deleted'`), now, now, id)
	if err != nil {
		return nil, fmt.Errorf("removing key %q: %w", id, err)
	}
	if err := expectOneRow(res); err != nil {
		return nil, fmt.Errorf("removing key %q: %w", id, err)
	}
	children, err := queryIDs(ctx, tx, db.Rebind(`UPDATE keys SET status = 'revoked', revoked_at = ?,
		updated_at = ?, revoke_reason = 'parent deleted'
		WHERE parent_id = ? AND status IN ('active', 'disabled') RETURNING id`), now, now, id)
	if err != nil {
		return nil, fmt.Errorf("removing key %q: revoking its children: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("removing key %q: %w", id, err)
	}
	return append([]string{id}, children...), nil
}

// UseKey counts one use of a key with a use cap, atomically across replicas: it
// succeeds only while the key is active and has uses left. It reports false when the
// key is used up (or not active).
func (db *DB) UseKey(ctx context.Context, id string) (bool, error) {
	res, err := db.db.ExecContext(ctx, db.Rebind(`UPDATE keys SET uses = uses + 1
		WHERE id = ? AND status = 'active' AND (max_uses = 0 OR uses < max_uses)`), id)
	if err != nil {
		return false, fmt.Errorf("using key %q: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("using key %q: %w", id, err)
	}
	return n == 1, nil
}
