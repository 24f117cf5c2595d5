package store

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"
)

// dayCache computes local day starts, remembering the last one: a batch's rows almost
// always share a day, and building the day's start is the costly part of DayStart.
type dayCache struct {
	loc   *time.Location
	valid bool
	y, d  int
	m     time.Month
	start int64
}

// dayStart returns DayStart(t, c.loc).
func (c *dayCache) dayStart(t time.Time) int64 {
	y, m, d := t.In(c.loc).Date()
	if !c.valid || y != c.y || m != c.m || d != c.d {
		c.valid, c.y, c.m, c.d = true, y, m, d
		c.start = time.Date(y, m, d, 0, 0, 0, 0, c.loc).UnixNano()
	}
	return c.start
}

// rollupKey identifies one rollup row: a bucket and the report dimensions.
type rollupKey struct {
	bucket                          int64
	keyID, project, model, provider string
}

// rollupRow is one rollup row's values.
type rollupRow struct {
	rollupKey
	day, requests, prompt, completion, cached, cost int64
	parent                                          string
}

// rollup sums rows into daily and hourly rollup rows, one per (bucket, key, project,
// model, provider) group, sorted by primary key so that concurrent writers lock rows in
// the same order and never deadlock.
func rollup(rows []*SpendRow, days *dayCache) (daily, hourly []rollupRow) {
	d, h := map[rollupKey]*rollupRow{}, map[rollupKey]*rollupRow{}
	add := func(m map[rollupKey]*rollupRow, bucket, day int64, r *SpendRow) {
		k := rollupKey{bucket: bucket, keyID: r.KeyID, project: r.Project, model: r.Model, provider: r.Provider}
		v := m[k]
		if v == nil {
			v = &rollupRow{rollupKey: k, day: day, parent: r.ParentKeyID}
			m[k] = v
		}
		if r.RecordType == SpendRequest {
			v.requests++
		}
		v.prompt += r.PromptTokens
		v.completion += r.CompletionTokens
		v.cached += r.CachedTokens
		v.cost += r.CostNano
	}
	for _, r := range rows {
		at, day := r.Time.UnixNano(), days.dayStart(r.Time)
		add(d, day, day, r)
		add(h, at-at%hourNanos, day, r)
	}
	return sortedRollup(d), sortedRollup(h)
}

// sortedRollup returns m's rows in primary-key order.
func sortedRollup(m map[rollupKey]*rollupRow) []rollupRow {
	out := make([]rollupRow, 0, len(m))
	for _, v := range m {
		out = append(out, *v)
	}
	slices.SortFunc(out, func(a, b rollupRow) int {
		return cmp.Or(cmp.Compare(a.bucket, b.bucket), strings.Compare(a.keyID, b.keyID),
			strings.Compare(a.project, b.project), strings.Compare(a.model, b.model),
			strings.Compare(a.provider, b.provider))
	})
	return out
}

// rollupTable is one rollup table: its name, its bucket column and whether it also
// stores the local day (the hourly table does).
type rollupTable struct {
	table, bucketCol string
	withDay          bool
}

var (
	rollupDaily  = rollupTable{table: "spend_daily", bucketCol: "day"}
	rollupHourly = rollupTable{table: "spend_hourly", bucketCol: "hour", withDay: true}
)

// columns returns the table's columns in appendArgs order.
func (t rollupTable) columns() []string {
	cols := []string{t.bucketCol, "key_id", "project", "model", "provider", "parent_key_id", "requests",
		"prompt_tokens", "completion_tokens", "cached_tokens", "cost_nano"}
	if t.withDay {
		cols = append(cols, "day")
	}
	return cols
}

// upsertSQL returns the statement that adds the rows of values (placeholder lists) to
// the table.
func (t rollupTable) upsertSQL(values string) string {
	set := "parent_key_id = excluded.parent_key_id"
	for _, c := range []string{"requests", "prompt_tokens", "completion_tokens", "cached_tokens", "cost_nano"} {
		set += ", " + c + " = " + t.table + "." + c + " + excluded." + c
	}
	return "INSERT INTO " + t.table + " (" + strings.Join(t.columns(), ", ") + ") VALUES " + values +
		" ON CONFLICT (" + t.bucketCol + ", key_id, project, model, provider) DO UPDATE SET " + set
}

// appendArgs appends r's values in columns order.
func (t rollupTable) appendArgs(dst []any, r *rollupRow) []any {
	dst = append(dst, r.bucket, r.keyID, r.project, r.model, r.provider, r.parent, r.requests,
		r.prompt, r.completion, r.cached, r.cost)
	if t.withDay {
		dst = append(dst, r.day)
	}
	return dst
}

// upsertRollup adds rows to t: on SQLite one prepared single-row UPSERT per group
// (statements spanning many rows need a statement journal there, and a new parse per
// size), on PostgreSQL multi-row statements, one round trip per spendChunk groups.
func (db *DB) upsertRollup(ctx context.Context, tx *sql.Tx, t rollupTable, rows []rollupRow) error {
	if len(rows) == 0 {
		return nil
	}
	ncols := len(t.columns())
	if db.dialect == DialectSQLite {
		st, err := db.txStmt(ctx, tx, t.upsertSQL(db.valueLists(1, ncols)))
		if err != nil {
			return err
		}
		defer st.Close()
		rowCtx := rowContext(ctx)
		args := make([]any, 0, ncols)
		for i := range rows {
			if err := ctx.Err(); err != nil {
				return err
			}
			if _, err := st.ExecContext(rowCtx, t.appendArgs(args[:0], &rows[i])...); err != nil {
				return err
			}
		}
		return nil
	}
	for chunk := range slices.Chunk(rows, spendChunk) {
		args := make([]any, 0, len(chunk)*ncols)
		for i := range chunk {
			args = t.appendArgs(args, &chunk[i])
		}
		if _, err := tx.ExecContext(ctx, t.upsertSQL(db.valueLists(len(chunk), ncols)), args...); err != nil {
			return err
		}
	}
	return nil
}
