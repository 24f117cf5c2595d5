// Package store is tollgate's persistence layer: SQLite (the embedded default) and
// PostgreSQL (for several replicas), behind one *DB.
//
// One code path. Both engines are reached through database/sql: SQLite through the pure-Go
// modernc.org/sqlite driver (no cgo), PostgreSQL through pgx's database/sql adapter. Every
// query is written once, in the common subset of the two dialects, with "?" placeholders.
// For PostgreSQL the placeholders are rewritten to $1..$n: the fixed queries once in Open,
// dynamic ones (filters) once per distinct text through a cache, so no query is rewritten
// on every call. Rebind exposes the same rewrite to packages that use the SQL escape hatch.
//
// SQLite settings. WAL journal (readers never block the writer), busy_timeout=5000 (a
// writer waits for another instead of failing at once), foreign_keys=on and
// synchronous=NORMAL (durable across crashes of the process, and fast). They are passed as
// _pragma parameters of the DSN so they apply to every pooled connection, not only the
// first. Transactions begin IMMEDIATE so that two writers queue on the lock instead of one
// failing when it upgrades from reading to writing. A new database file is created with
// mode 0600 because it holds key hashes and sealed credentials.
//
// Time. Timestamps are stored as INTEGER/BIGINT Unix nanoseconds in UTC in both engines:
// they round-trip exactly, compare and index the same way everywhere, and need no driver
// time parsing. Times read back are always UTC. Times outside the int64 nanosecond range
// (before 1678, after 2262) are rejected rather than stored wrong.
//
// Ordering. Key ids are compared bytewise in both engines (SQLite's BINARY collation,
// COLLATE "C" in PostgreSQL), so cursor paging agrees with Go's string order.
//
// Migrations. Versioned SQL files live in migrations/sqlite and migrations/postgres as
// NNNN_name.sql, embedded in the binary; both directories hold the same versions. Open
// applies the pending ones in order, each in its own transaction together with its row in
// schema_migrations. On PostgreSQL every migration transaction first takes a transaction
// scoped advisory lock, so replicas starting at once apply each migration exactly once; on
// SQLite the IMMEDIATE transaction is the lock. Versions recorded in the database but
// unknown to this binary (a newer replica ran first) are left alone. Packages that need
// tables add a migration file here.
//
// Errors. Unique violations are recognised by their typed codes (PostgreSQL SQLSTATE
// 23505, SQLite's extended codes SQLITE_CONSTRAINT_PRIMARYKEY and _UNIQUE) and returned as
// ErrConflict; missing rows are ErrNotFound. Both are wrapped, so test with errors.Is.
//
// Package storetest opens a fresh, isolated store per test on either engine.
package store
