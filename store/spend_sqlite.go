package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
)

// stmtCache holds statements prepared once per DB. On SQLite, parsing the spend
// writer's statements cost more than running them; database/sql prepares each one again
// on every pooled connection it is used on, at most once per connection.
type stmtCache struct {
	mu     sync.Mutex
	byText map[string]*sql.Stmt
}

// txStmt returns the prepared statement for text, bound to tx. Close it when done; that
// leaves the shared statement prepared.
func (db *DB) txStmt(ctx context.Context, tx *sql.Tx, text string) (*sql.Stmt, error) {
	c := &db.stmts
	c.mu.Lock()
	st := c.byText[text]
	if st == nil {
		var err error
		if st, err = db.db.PrepareContext(ctx, text); err != nil {
			c.mu.Unlock()
			return nil, err
		}
		if c.byText == nil {
			c.byText = map[string]*sql.Stmt{}
		}
		c.byText[text] = st
	}
	c.mu.Unlock()
	return tx.StmtContext(ctx, st), nil
}

// rowContext is the context for the single-row statements of a SQLite write
// transaction: ctx without its cancellation, which the driver would otherwise watch
// with a new goroutine per statement. Nothing inside the transaction waits for a lock
// (it began IMMEDIATE, holding the write lock), so there is nothing to interrupt; the
// callers check ctx between rows instead, and BEGIN, which does wait, keeps ctx.
func rowContext(ctx context.Context) context.Context {
	return context.WithoutCancel(ctx)
}

// insertSpendEach inserts rows one by one through a prepared single-row INSERT and
// returns those that were new. On SQLite (in process, no round trips) this is cheaper
// than one multi-row INSERT: the statement is parsed once per connection rather than
// once per batch, needs no statement journal, and no RETURNING rows to read back.
func (db *DB) insertSpendEach(ctx context.Context, tx *sql.Tx, rows []SpendRow, days *dayCache) ([]*SpendRow, error) {
	st, err := db.txStmt(ctx, tx, "INSERT INTO spend_log ("+strings.Join(spendColumns, ", ")+") VALUES "+
		db.valueLists(1, len(spendColumns))+" ON CONFLICT (id) DO NOTHING")
	if err != nil {
		return nil, err
	}
	defer st.Close()
	rowCtx := rowContext(ctx)
	args := make([]any, 0, len(spendColumns))
	out := make([]*SpendRow, 0, len(rows))
	for i := range rows {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r := &rows[i]
		res, err := st.ExecContext(rowCtx, appendSpendArgs(args[:0], r, days.dayStart(r.Time))...)
		if err != nil {
			return nil, fmt.Errorf("spend row %s: %w", r.ID, err)
		}
		// A known id, or one seen earlier in this batch, inserts nothing and counts once.
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n == 1 {
			out = append(out, r)
		}
	}
	return out, nil
}
