package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// migrationLockID is the PostgreSQL advisory lock key that serialises migrations across
// replicas; it is "tollgate" in ASCII.
const migrationLockID int64 = 0x746f6c6c67617465

const createSchemaMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at BIGINT NOT NULL
)`

// migration is one versioned SQL file.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads dir's NNNN_name.sql files in version order. Versions must run
// 1, 2, 3, ... without gaps or duplicates, so that a misnamed file fails every test.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("reading migrations: %w", err)
	}
	var migs []migration
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), ".sql")
		if !ok || e.IsDir() {
			continue
		}
		num, name, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || name == "" || version <= 0 {
			return nil, fmt.Errorf("migration %s/%s: name is not NNNN_name.sql", dir, e.Name())
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading migration: %w", err)
		}
		migs = append(migs, migration{version: version, name: name, sql: string(body)})
	}
	slices.SortFunc(migs, func(a, b migration) int { return a.version - b.version })
	for i, m := range migs {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s/%04d_%s: want version %d", dir, m.version, m.name, i+1)
		}
	}
	return migs, nil
}

// migrate applies the pending migrations of the DB's dialect in order.
func (db *DB) migrate(ctx context.Context) error {
	migs, err := loadMigrations(migrationFS, "migrations/"+db.dialect)
	if err != nil {
		return err
	}
	err = db.migrationTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, createSchemaMigrations)
		return err
	})
	if err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	applied, err := db.appliedVersions(ctx)
	if err != nil {
		return err
	}
	for _, m := range migs {
		if applied[m.version] {
			continue
		}
		err := db.migrationTx(ctx, func(tx *sql.Tx) error { return db.apply(ctx, tx, m) })
		if err != nil {
			return fmt.Errorf("applying migration %04d_%s: %w", m.version, m.name, err)
		}
	}
	return nil
}

// appliedVersions returns the versions recorded in schema_migrations.
func (db *DB) appliedVersions(ctx context.Context) (map[int]bool, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("reading schema_migrations: %w", err)
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("reading schema_migrations: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading schema_migrations: %w", err)
	}
	return applied, nil
}

// migrationTx runs fn in a transaction that holds the migration lock: the advisory lock
// on PostgreSQL, the write lock of the IMMEDIATE transaction on SQLite. Both are released
// at commit or rollback.
func (db *DB) migrationTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	defer tx.Rollback() // A no-op once committed; the error of interest is returned below.
	if db.dialect == DialectPostgres {
		lock := db.Rebind(`SELECT pg_advisory_xact_lock(?)`)
		if _, err := tx.ExecContext(ctx, lock, migrationLockID); err != nil {
			return fmt.Errorf("taking migration lock: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// apply runs m and records it, unless another replica did so while this one waited for
// the lock.
func (db *DB) apply(ctx context.Context, tx *sql.Tx, m migration) error {
	var n int
	check := db.Rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`)
	if err := tx.QueryRowContext(ctx, check, m.version).Scan(&n); err != nil {
		return fmt.Errorf("checking schema_migrations: %w", err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	record := db.Rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`)
	if _, err := tx.ExecContext(ctx, record, m.version, m.name, db.now().UTC().UnixNano()); err != nil {
		return fmt.Errorf("recording migration: %w", err)
	}
	return nil
}
