package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// emptySettings is stored for a key whose Settings is empty.
const emptySettings = "{}"

// CreateKey inserts k, or returns ErrConflict if a key with its id exists. A zero
// CreatedAt is set to the clock's time and a zero UpdatedAt to CreatedAt, in k too. Empty
// PrevHash is stored as NULL and read back as nil; empty Settings is stored as "{}".
func (db *DB) CreateKey(ctx context.Context, k *Key) error {
	if err := validateKey(k); err != nil {
		return fmt.Errorf("creating key: %w", err)
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = db.now().UTC()
	}
	if k.UpdatedAt.IsZero() {
		k.UpdatedAt = k.CreatedAt
	}
	args, err := keyArgs(k)
	if err != nil {
		return fmt.Errorf("creating key %q: %w", k.ID, err)
	}
	_, err = db.db.ExecContext(ctx, db.q.createKey, args...)
	if isUniqueViolation(err) {
		return fmt.Errorf("creating key %q: %w", k.ID, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("creating key %q: %w", k.ID, err)
	}
	return nil
}

// validateKey rejects keys that no lookup could ever match.
func validateKey(k *Key) error {
	switch {
	case k.ID == "":
		return errors.New("empty id")
	case len(k.Hash) == 0:
		return fmt.Errorf("key %q: empty hash", k.ID)
	}
	return nil
}

// keyArgs returns k's column values in keyColumns order.
func keyArgs(k *Key) ([]any, error) {
	created, err := toNanos(k.CreatedAt)
	if err != nil {
		return nil, err
	}
	updated, err := toNanos(k.UpdatedAt)
	if err != nil {
		return nil, err
	}
	grace, expires, revoked, err := optionalTimes(k)
	if err != nil {
		return nil, err
	}
	return []any{k.ID, k.Kind, k.Hash, nullBytes(k.PrevHash), grace, k.Hint, k.Name,
		k.Project, k.Owner, k.ParentID, k.Status, settingsText(k.Settings), k.CreatedBy,
		created, updated, expires, revoked, k.Role, k.MaxUses, k.Uses, k.RevokeReason}, nil
}

// optionalTimes converts k's pointer times.
func optionalTimes(k *Key) (grace, expires, revoked sql.NullInt64, err error) {
	if grace, err = toNullNanos(k.GraceUntil); err != nil {
		return
	}
	if expires, err = toNullNanos(k.ExpiresAt); err != nil {
		return
	}
	revoked, err = toNullNanos(k.RevokedAt)
	return
}

// GetKey returns the key with id, or ErrNotFound.
func (db *DB) GetKey(ctx context.Context, id string) (*Key, error) {
	k, err := scanKey(db.db.QueryRowContext(ctx, db.q.getKey, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("getting key %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("getting key %q: %w", id, err)
	}
	return k, nil
}

// ListKeys returns the keys that match f, in id order.
func (db *DB) ListKeys(ctx context.Context, f KeyFilter) ([]*Key, error) {
	query, args := listKeysQuery(f)
	rows, err := db.db.QueryContext(ctx, db.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("listing keys: %w", err)
	}
	defer rows.Close()
	var keys []*Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("listing keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing keys: %w", err)
	}
	return keys, nil
}

// listKeysQuery builds the query for f. Only the conditions in use are written, so each
// combination is its own cached statement with its own plan.
func listKeysQuery(f KeyFilter) (string, []any) {
	var where []string
	var args []any
	for _, c := range []struct {
		cond  string
		value string
	}{
		{"kind = ?", f.Kind},
		{"project = ?", f.Project},
		{"owner = ?", f.Owner},
		{"status = ?", f.Status},
		{"created_by = ?", f.CreatedBy},
		{"parent_id = ?", f.ParentID},
		{"id > ?", f.After},
	} {
		if c.value != "" {
			where = append(where, c.cond)
			args = append(args, c.value)
		}
	}
	if len(f.Kinds) > 0 {
		where = append(where, "kind IN (?"+strings.Repeat(", ?", len(f.Kinds)-1)+")")
		for _, k := range f.Kinds {
			args = append(args, k)
		}
	}
	if f.SkipDeleted {
		where = append(where, "status <> 'deleted'")
	}
	if !f.ChangedSince.IsZero() {
		where = append(where, "updated_at >= ?")
		args = append(args, f.ChangedSince.UnixNano())
	}
	var b strings.Builder
	b.WriteString("SELECT " + keyColumns + " FROM keys")
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	b.WriteString(" ORDER BY id")
	if f.Limit > 0 {
		b.WriteString(" LIMIT ?")
		args = append(args, f.Limit)
	}
	return b.String(), args
}

// UpdateKey writes every mutable column of k (all but ID, Kind, ParentID, CreatedBy,
// CreatedAt, MaxUses and Uses) to the row with k.ID, or returns ErrNotFound. It sets
// k.UpdatedAt to the clock's time.
func (db *DB) UpdateKey(ctx context.Context, k *Key) error {
	return db.updateKey(ctx, k, db.q.updateKey, nil)
}

// UpdateKeyIf is UpdateKey on condition that the row's UpdatedAt still equals
// prevUpdatedAt, that is, nobody changed the key since it was read. Otherwise it returns
// ErrConflict, and ErrNotFound when the row is gone. Read-modify-write callers use it so
// that a concurrent revocation is never overwritten.
func (db *DB) UpdateKeyIf(ctx context.Context, k *Key, prevUpdatedAt time.Time) error {
	err := db.updateKey(ctx, k, db.q.updateKeyIf, []any{prevUpdatedAt.UnixNano()})
	if errors.Is(err, ErrNotFound) {
		if _, gerr := db.GetKey(ctx, k.ID); gerr == nil {
			return fmt.Errorf("updating key %q: %w", k.ID, ErrConflict)
		}
	}
	return err
}

func (db *DB) updateKey(ctx context.Context, k *Key, query string, extra []any) error {
	if err := validateKey(k); err != nil {
		return fmt.Errorf("updating key: %w", err)
	}
	updated := db.now().UTC()
	grace, expires, revoked, err := optionalTimes(k)
	if err != nil {
		return fmt.Errorf("updating key %q: %w", k.ID, err)
	}
	args := append([]any{k.Hash, nullBytes(k.PrevHash), grace, k.Hint, k.Name, k.Project, k.Owner,
		k.Status, settingsText(k.Settings), updated.UnixNano(), expires, revoked, k.Role,
		k.RevokeReason, k.ID}, extra...)
	res, err := db.db.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("updating key %q: %w", k.ID, err)
	}
	if err := expectOneRow(res); err != nil {
		return fmt.Errorf("updating key %q: %w", k.ID, err)
	}
	k.UpdatedAt = updated
	return nil
}

// DeleteKey deletes the key with id, or returns ErrNotFound.
func (db *DB) DeleteKey(ctx context.Context, id string) error {
	res, err := db.db.ExecContext(ctx, db.q.deleteKey, id)
	if err != nil {
		return fmt.Errorf("deleting key %q: %w", id, err)
	}
	if err := expectOneRow(res); err != nil {
		return fmt.Errorf("deleting key %q: %w", id, err)
	}
	return nil
}

// expectOneRow returns ErrNotFound when res touched no row.
func expectOneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// rowScanner is the part of *sql.Row and *sql.Rows that scanKey needs.
type rowScanner interface {
	Scan(dest ...any) error
}

// scanKey reads one row of keyColumns.
func scanKey(row rowScanner) (*Key, error) {
	var k Key
	var settings string
	var created, updated int64
	var grace, expires, revoked sql.NullInt64
	err := row.Scan(&k.ID, &k.Kind, &k.Hash, &k.PrevHash, &grace, &k.Hint, &k.Name,
		&k.Project, &k.Owner, &k.ParentID, &k.Status, &settings, &k.CreatedBy,
		&created, &updated, &expires, &revoked, &k.Role, &k.MaxUses, &k.Uses, &k.RevokeReason)
	if err != nil {
		return nil, err
	}
	k.Settings = []byte(settings)
	k.CreatedAt, k.UpdatedAt = fromNanos(created), fromNanos(updated)
	k.GraceUntil, k.ExpiresAt, k.RevokedAt = fromNullNanos(grace), fromNullNanos(expires), fromNullNanos(revoked)
	if len(k.PrevHash) == 0 {
		k.PrevHash = nil
	}
	return &k, nil
}

// nullBytes returns b, or nil (NULL) when b is empty.
func nullBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// settingsText returns the settings as text, so that SQLite stores TEXT (not BLOB, which
// its JSON functions would read as JSONB) and PostgreSQL checks it is UTF-8.
func settingsText(s []byte) string {
	if len(s) == 0 {
		return emptySettings
	}
	return string(s)
}
