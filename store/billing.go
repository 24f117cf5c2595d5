package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Spend record types.
const (
	// SpendRequest is the one row of a request: its final answer or failure.
	SpendRequest = "request"
	// SpendAttempt is a failed attempt of a request that the provider still billed.
	SpendAttempt = "attempt"
)

// SpendRow is one row of the spend log: what a request (or a billed failed attempt)
// was, cost and where the numbers came from. It never holds a prompt or a secret. The
// JSON form is billing's spill-file format.
type SpendRow struct {
	ID               string    `json:"id"`
	Time             time.Time `json:"time"`
	RecordType       string    `json:"record_type"`
	RequestID        string    `json:"request_id"`
	Attempt          int       `json:"attempt"`
	KeyID            string    `json:"key_id"`
	ParentKeyID      string    `json:"parent_key_id,omitempty"`
	Project          string    `json:"project"`
	Endpoint         string    `json:"endpoint"`
	Model            string    `json:"model"`
	Provider         string    `json:"provider"`
	UpstreamModel    string    `json:"upstream_model"`
	Status           int       `json:"status"`
	Stream           bool      `json:"stream"`
	PromptTokens     int64     `json:"prompt_tokens"`
	CompletionTokens int64     `json:"completion_tokens"`
	CachedTokens     int64     `json:"cached_tokens"`
	CacheWriteTokens int64     `json:"cache_write_tokens"`
	ReasoningTokens  int64     `json:"reasoning_tokens"`
	// CostNano is the cost in nano-USD.
	CostNano int64 `json:"cost_nano"`
	// UsageSource is "provider", "estimated" or "none".
	UsageSource  string `json:"usage_source"`
	PriceVersion string `json:"price_version"`
	LatencyMS    int64  `json:"latency_ms"`
	TTFTMS       int64  `json:"ttft_ms"`
	Attempts     int    `json:"attempts"`
	ErrorCode    string `json:"error_code,omitempty"`
	SourceIP     string `json:"source_ip"`
	UserAgent    string `json:"user_agent"`
}

// spendColumns lists the spend_log columns in the order spendArgs and scanSpend use.
var spendColumns = []string{"id", "at", "day", "record_type", "request_id", "attempt", "key_id",
	"parent_key_id", "project", "endpoint", "model", "provider", "upstream_model", "status", "stream",
	"prompt_tokens", "completion_tokens", "cached_tokens", "cache_write_tokens", "reasoning_tokens",
	"cost_nano", "usage_source", "price_version", "latency_ms", "ttft_ms", "attempts", "error_code",
	"source_ip", "user_agent"}

// spendChunk bounds the rows of one INSERT: 29 columns × 500 rows stays under both
// engines' limits on bound parameters (32766 for SQLite, 65535 for PostgreSQL).
const spendChunk = 500

const hourNanos = int64(time.Hour)

// DayStart returns the start of t's local day in loc as Unix nanoseconds: the "day"
// of the spend log and of spend_daily.
func DayStart(t time.Time, loc *time.Location) int64 {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc).UnixNano()
}

// InsertSpend writes rows and adds them to the daily and hourly rollups, in one
// transaction. Rows whose id is already stored are skipped, and only the rows actually
// inserted are rolled up, so a batch written twice (a retry after a lost commit
// acknowledgement, a spill-file replay) counts once. day buckets are local days in loc.
// It returns how many rows were new.
func (db *DB) InsertSpend(ctx context.Context, rows []SpendRow, loc *time.Location) (int, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("writing spend: %w", err)
	}
	defer tx.Rollback() // A no-op once committed.
	var inserted []*SpendRow
	for chunk := range slices.Chunk(rows, spendChunk) {
		got, err := db.insertSpendChunk(ctx, tx, chunk, loc)
		if err != nil {
			return 0, fmt.Errorf("writing spend: %w", err)
		}
		inserted = append(inserted, got...)
	}
	daily, hourly := rollup(inserted, loc)
	if err := db.upsertRollup(ctx, tx, "spend_daily", "day", daily); err != nil {
		return 0, fmt.Errorf("writing daily spend: %w", err)
	}
	if err := db.upsertRollup(ctx, tx, "spend_hourly", "hour", hourly); err != nil {
		return 0, fmt.Errorf("writing hourly spend: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("writing spend: committing: %w", err)
	}
	return len(inserted), nil
}

// insertSpendChunk inserts rows and returns those that were new.
func (db *DB) insertSpendChunk(ctx context.Context, tx *sql.Tx, rows []SpendRow, loc *time.Location) ([]*SpendRow, error) {
	args := make([]any, 0, len(rows)*len(spendColumns))
	byID := make(map[string]*SpendRow, len(rows))
	for i := range rows {
		r := &rows[i]
		if r.ID == "" {
			return nil, errors.New("spend row without an id")
		}
		a, err := spendArgs(r, loc)
		if err != nil {
			return nil, fmt.Errorf("spend row %s: %w", r.ID, err)
		}
		args = append(args, a...)
		byID[r.ID] = r
	}
	q := "INSERT INTO spend_log (" + strings.Join(spendColumns, ", ") + ") VALUES " +
		db.valueLists(len(rows), len(spendColumns)) + " ON CONFLICT (id) DO NOTHING RETURNING id"
	res, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	var out []*SpendRow
	for res.Next() {
		var id string
		if err := res.Scan(&id); err != nil {
			return nil, err
		}
		if r := byID[id]; r != nil {
			out = append(out, r)
			delete(byID, id) // A duplicate id inside one batch counts once.
		}
	}
	return out, res.Err()
}

// spendArgs returns r's column values in spendColumns order.
func spendArgs(r *SpendRow, loc *time.Location) ([]any, error) {
	at, err := toNanos(r.Time)
	if err != nil {
		return nil, err
	}
	if at < 0 {
		return nil, errors.New("time before 1970")
	}
	return []any{r.ID, at, DayStart(r.Time, loc), r.RecordType, r.RequestID, r.Attempt, r.KeyID,
		r.ParentKeyID, r.Project, r.Endpoint, r.Model, r.Provider, r.UpstreamModel, r.Status, r.Stream,
		r.PromptTokens, r.CompletionTokens, r.CachedTokens, r.CacheWriteTokens, r.ReasoningTokens,
		r.CostNano, r.UsageSource, r.PriceVersion, r.LatencyMS, r.TTFTMS, r.Attempts, r.ErrorCode,
		r.SourceIP, r.UserAgent}, nil
}

// valueLists returns n parenthesised lists of cols placeholders in the DB's dialect:
// "(?, ?), (?, ?)" or "($1, $2), ($3, $4)". Multi-row statements vary in size, so they
// are built here rather than through Rebind's cache.
func (db *DB) valueLists(n, cols int) string {
	var b strings.Builder
	b.Grow(n * cols * 5)
	p := 0
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range cols {
			if j > 0 {
				b.WriteString(", ")
			}
			p++
			if db.dialect == DialectPostgres {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(p))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
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

// rollup sums rows into daily and hourly rollup rows, sorted by primary key so that
// concurrent writers lock rows in the same order and never deadlock.
func rollup(rows []*SpendRow, loc *time.Location) (daily, hourly []rollupRow) {
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
		at, day := r.Time.UnixNano(), DayStart(r.Time, loc)
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

// upsertRollup adds rows to table, whose bucket column is bucketCol.
func (db *DB) upsertRollup(ctx context.Context, tx *sql.Tx, table, bucketCol string, rows []rollupRow) error {
	cols := []string{bucketCol, "key_id", "project", "model", "provider", "parent_key_id", "requests",
		"prompt_tokens", "completion_tokens", "cached_tokens", "cost_nano"}
	if table == "spend_hourly" {
		cols = append(cols, "day")
	}
	set := "parent_key_id = excluded.parent_key_id"
	for _, c := range []string{"requests", "prompt_tokens", "completion_tokens", "cached_tokens", "cost_nano"} {
		set += ", " + c + " = " + table + "." + c + " + excluded." + c
	}
	for chunk := range slices.Chunk(rows, spendChunk) {
		args := make([]any, 0, len(chunk)*len(cols))
		for _, r := range chunk {
			args = append(args, r.bucket, r.keyID, r.project, r.model, r.provider, r.parent, r.requests,
				r.prompt, r.completion, r.cached, r.cost)
			if table == "spend_hourly" {
				args = append(args, r.day)
			}
		}
		q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " +
			db.valueLists(len(chunk), len(cols)) + " ON CONFLICT (" + bucketCol +
			", key_id, project, model, provider) DO UPDATE SET " + set
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}
