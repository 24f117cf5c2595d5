package store

import (
	"context"
	"fmt"
	"time"
)

// SealedRef names one sealed value: a column of a row. The vault binds the value to
// exactly these three names through its AAD.
type SealedRef struct {
	Table, Row, Column string
}

// SealedValue is a sealed value and where it lives.
type SealedValue struct {
	SealedRef
	Value []byte
}

// sealedColumn is one column that holds vault-sealed values.
type sealedColumn struct {
	table, key, column string
	// where selects the rows that hold sealed values; empty means every row.
	where string
}

// SealedMetaNames returns the meta rows whose values are sealed by the vault. A package
// that seals a new meta row adds its name here, so that KEK rotation re-wraps it and the
// vault status counts it.
func SealedMetaNames() []string {
	return []string{"vault_canary", "hmac_secret", "audit_secret", "fingerprint_secret"}
}

// sealedColumns lists every column in the store that holds sealed values. The keyring
// (vault_keks.wrapped) is not among them: it is sealed under the root key, not a KEK.
func sealedColumns() []sealedColumn {
	in := ""
	for i, n := range SealedMetaNames() {
		if i > 0 {
			in += ", "
		}
		in += "'" + n + "'"
	}
	return []sealedColumn{
		{table: "meta", key: "name", column: "value", where: "name IN (" + in + ")"},
		{table: "provider_keys", key: "id", column: "secret"},
	}
}

// SealedValues returns every sealed value in the store.
func (db *DB) SealedValues(ctx context.Context) ([]SealedValue, error) {
	var out []SealedValue
	for _, c := range sealedColumns() {
		q := "SELECT " + c.key + ", " + c.column + " FROM " + c.table
		if c.where != "" {
			q += " WHERE " + c.where
		}
		rows, err := db.db.QueryContext(ctx, q+" ORDER BY "+c.key)
		if err != nil {
			return nil, fmt.Errorf("reading sealed values of %s: %w", c.table, err)
		}
		for rows.Next() {
			v := SealedValue{SealedRef: SealedRef{Table: c.table, Column: c.column}}
			if err := rows.Scan(&v.Row, &v.Value); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading sealed values of %s: %w", c.table, err)
			}
			out = append(out, v)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("reading sealed values of %s: %w", c.table, err)
		}
	}
	return out, nil
}

// ReplaceSealed writes value to ref if the row still holds old, and reports whether it
// did: a value changed meanwhile (a key rotated during a KEK rotation) is left alone.
func (db *DB) ReplaceSealed(ctx context.Context, ref SealedRef, old, value []byte) (bool, error) {
	for _, c := range sealedColumns() {
		if c.table != ref.Table || c.column != ref.Column {
			continue
		}
		q := db.Rebind("UPDATE " + c.table + " SET " + c.column + " = ? WHERE " + c.key + " = ? AND " + c.column + " = ?")
		res, err := db.db.ExecContext(ctx, q, value, ref.Row, old)
		if err != nil {
			return false, fmt.Errorf("re-sealing %s %q: %w", ref.Table, ref.Row, err)
		}
		n, err := res.RowsAffected()
		return n == 1, err
	}
	return false, fmt.Errorf("re-sealing: %s.%s holds no sealed values", ref.Table, ref.Column)
}

// KEKRow is one row of the vault's keyring.
type KEKRow struct {
	ID        string
	Version   int
	Wrapped   []byte
	RootID    string
	CreatedAt time.Time
}

// ListKEKs returns the keyring in version order.
func (db *DB) ListKEKs(ctx context.Context) ([]KEKRow, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id, version, wrapped, root_id, created_at FROM vault_keks ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("reading the keyring: %w", err)
	}
	defer rows.Close()
	var out []KEKRow
	for rows.Next() {
		var r KEKRow
		var created int64
		if err := rows.Scan(&r.ID, &r.Version, &r.Wrapped, &r.RootID, &created); err != nil {
			return nil, fmt.Errorf("reading the keyring: %w", err)
		}
		r.CreatedAt = fromNanos(created)
		out = append(out, r)
	}
	return out, rows.Err()
}

// InsertKEK adds a keyring row, or returns ErrConflict when its id or version exists.
func (db *DB) InsertKEK(ctx context.Context, r KEKRow) error {
	created, err := toNanos(r.CreatedAt)
	if err != nil {
		return err
	}
	_, err = db.db.ExecContext(ctx, db.Rebind(`INSERT INTO vault_keks (id, version, wrapped, root_id, created_at)
		VALUES (?, ?, ?, ?, ?)`), r.ID, r.Version, r.Wrapped, r.RootID, created)
	return wrapWrite(err, "adding KEK", r.ID)
}

// RewrapKEK replaces a keyring row's wrapped key and root id if it still holds old.
func (db *DB) RewrapKEK(ctx context.Context, id string, old, wrapped []byte, rootID string) (bool, error) {
	res, err := db.db.ExecContext(ctx, db.Rebind(`UPDATE vault_keks SET wrapped = ?, root_id = ?
		WHERE id = ? AND wrapped = ?`), wrapped, rootID, id, old)
	if err != nil {
		return false, fmt.Errorf("re-wrapping KEK %q: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
