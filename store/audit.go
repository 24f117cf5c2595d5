package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// auditLockID is the PostgreSQL advisory lock key that serialises audit appends across
// replicas; it is "tgaudit" in ASCII.
const auditLockID int64 = 0x7467617564697400

// auditColumns lists the audit_log columns in the order scanAudit reads them.
const auditColumns = "seq, at, actor_id, actor_name, source_ip, request_id, action, target, details, prev_hash, hash"

// AuditRow is one row of the hash-chained audit log. The audit package computes Hash;
// the store only keeps rows in order.
type AuditRow struct {
	Seq       int64
	Time      time.Time
	ActorID   string
	ActorName string
	SourceIP  string
	RequestID string
	Action    string
	Target    string
	// Details is a JSON object, stored and hashed exactly as given.
	Details  string
	PrevHash string
	Hash     string
}

// AuditFilter selects rows in ListAudit. Empty fields match everything.
type AuditFilter struct {
	From, To time.Time
	// Actor matches the actor id or the actor name.
	Actor string
	// Action matches exactly, or as a prefix when it ends in "*" ("key.*").
	Action string
	// Before is a cursor: only rows with a smaller seq. Rows come newest first.
	Before int64
	// Limit caps the number of rows; zero means no limit.
	Limit int
}

// Tx is a write transaction that holds the audit lock, so that a change and the audit
// row recording it commit together or not at all.
type Tx struct {
	tx          *sql.Tx
	db          *DB
	afterCommit []func()
}

// WriteTx runs fn in a transaction holding the audit lock: the advisory lock on
// PostgreSQL, the IMMEDIATE transaction's write lock on SQLite. Appends from any number
// of replicas therefore form one chain. fn's error rolls everything back.
func (db *DB) WriteTx(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	defer sqlTx.Rollback() // A no-op once committed.
	if db.dialect == DialectPostgres {
		if _, err := sqlTx.ExecContext(ctx, db.Rebind(`SELECT pg_advisory_xact_lock(?)`), auditLockID); err != nil {
			return fmt.Errorf("taking audit lock: %w", err)
		}
	}
	tx := &Tx{tx: sqlTx, db: db}
	if err := fn(tx); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

// AfterCommit runs f once the transaction has committed.
func (tx *Tx) AfterCommit(f func()) { tx.afterCommit = append(tx.afterCommit, f) }

// AppendAudit appends one row: build receives the last row (nil for an empty log) and
// returns the new row, whose Seq it must set to the last seq + 1.
func (tx *Tx) AppendAudit(ctx context.Context, build func(last *AuditRow) (*AuditRow, error)) error {
	last, err := scanAudit(tx.tx.QueryRowContext(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		last, err = nil, nil
	}
	if err != nil {
		return fmt.Errorf("reading the last audit row: %w", err)
	}
	row, err := build(last)
	if err != nil {
		return err
	}
	at, err := toNanos(row.Time)
	if err != nil {
		return fmt.Errorf("appending audit row: %w", err)
	}
	_, err = tx.tx.ExecContext(ctx, tx.db.Rebind(`INSERT INTO audit_log (`+auditColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), row.Seq, at, row.ActorID, row.ActorName,
		row.SourceIP, row.RequestID, row.Action, row.Target, row.Details, row.PrevHash, row.Hash)
	if err != nil {
		return fmt.Errorf("appending audit row: %w", err)
	}
	return nil
}

// ListAudit returns the rows that match f, newest first.
func (db *DB) ListAudit(ctx context.Context, f AuditFilter) ([]AuditRow, error) {
	query, args, err := listAuditQuery(f)
	if err != nil {
		return nil, fmt.Errorf("listing audit rows: %w", err)
	}
	var out []AuditRow
	err = db.queryAudit(ctx, db.Rebind(query), args, func(r AuditRow) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// listAuditQuery builds the query for f, writing only the conditions in use.
func listAuditQuery(f AuditFilter) (string, []any, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if !f.From.IsZero() {
		n, err := toNanos(f.From)
		if err != nil {
			return "", nil, err
		}
		add("at >= ?", n)
	}
	if !f.To.IsZero() {
		n, err := toNanos(f.To)
		if err != nil {
			return "", nil, err
		}
		add("at < ?", n)
	}
	if f.Actor != "" {
		add("(actor_id = ? OR actor_name = ?)", f.Actor, f.Actor)
	}
	if prefix, ok := strings.CutSuffix(f.Action, "*"); ok {
		add("substr(action, 1, ?) = ?", len(prefix), prefix)
	} else if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Before > 0 {
		add("seq < ?", f.Before)
	}
	q := "SELECT " + auditColumns + " FROM audit_log"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq DESC"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	return q, args, nil
}

// EachAudit calls fn with every audit row in seq order, stopping at fn's first error.
// Rows are read in pages, so no read stays open while fn runs for long.
func (db *DB) EachAudit(ctx context.Context, fn func(AuditRow) error) error {
	const page = 1000
	query := db.Rebind(`SELECT ` + auditColumns + ` FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`)
	after := int64(-1 << 62)
	for {
		var rows []AuditRow
		err := db.queryAudit(ctx, query, []any{after, page}, func(r AuditRow) error {
			rows = append(rows, r)
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(rows) < page {
			return nil
		}
		after = rows[len(rows)-1].Seq
	}
}

// queryAudit runs a query of auditColumns and calls fn per row.
func (db *DB) queryAudit(ctx context.Context, query string, args []any, fn func(AuditRow) error) error {
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("reading audit rows: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return fmt.Errorf("reading audit rows: %w", err)
		}
		if err := fn(*r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading audit rows: %w", err)
	}
	return nil
}

// scanAudit reads one row of auditColumns.
func scanAudit(row rowScanner) (*AuditRow, error) {
	var r AuditRow
	var at int64
	err := row.Scan(&r.Seq, &at, &r.ActorID, &r.ActorName, &r.SourceIP, &r.RequestID,
		&r.Action, &r.Target, &r.Details, &r.PrevHash, &r.Hash)
	if err != nil {
		return nil, err
	}
	r.Time = fromNanos(at)
	return &r, nil
}
