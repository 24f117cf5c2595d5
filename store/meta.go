package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// GetMeta returns the value stored under name, or ErrNotFound.
func (db *DB) GetMeta(ctx context.Context, name string) ([]byte, error) {
	var value []byte
	err := db.db.QueryRowContext(ctx, db.q.getMeta, name).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("getting meta %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("getting meta %q: %w", name, err)
	}
	return nonNil(value), nil
}

// PutMetaIfAbsent stores value under name unless a value is already there, and returns
// the value that is stored afterwards: value itself, or the one another replica stored
// first. Replicas use it to agree on generated settings such as the server secret's id.
func (db *DB) PutMetaIfAbsent(ctx context.Context, name string, value []byte) ([]byte, error) {
	_, err := db.db.ExecContext(ctx, db.q.insertMeta, name, nonNil(value), db.nowNanos())
	if err != nil {
		return nil, fmt.Errorf("putting meta %q: %w", name, err)
	}
	return db.GetMeta(ctx, name)
}

// SetMeta stores value under name, replacing any value there.
func (db *DB) SetMeta(ctx context.Context, name string, value []byte) error {
	_, err := db.db.ExecContext(ctx, db.q.setMeta, name, nonNil(value), db.nowNanos())
	if err != nil {
		return fmt.Errorf("setting meta %q: %w", name, err)
	}
	return nil
}

// nowNanos returns the clock's time as Unix nanoseconds.
func (db *DB) nowNanos() int64 {
	return db.now().UTC().UnixNano()
}

// nonNil returns b, or an empty slice for nil: a meta value is never NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
