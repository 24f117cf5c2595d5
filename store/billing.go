package store

import (
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
	for i := range rows {
		if err := checkSpendRow(&rows[i]); err != nil {
			return 0, fmt.Errorf("writing spend: %w", err)
		}
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("writing spend: %w", err)
	}
	defer tx.Rollback() // A no-op once committed.
	days := dayCache{loc: loc}
	var inserted []*SpendRow
	if db.dialect == DialectSQLite {
		inserted, err = db.insertSpendEach(ctx, tx, rows, &days)
	} else {
		inserted, err = db.insertSpendChunks(ctx, tx, rows, &days)
	}
	if err != nil {
		return 0, fmt.Errorf("writing spend: %w", err)
	}
	daily, hourly := rollup(inserted, &days)
	if err := db.upsertRollup(ctx, tx, rollupDaily, daily); err != nil {
		return 0, fmt.Errorf("writing daily spend: %w", err)
	}
	if err := db.upsertRollup(ctx, tx, rollupHourly, hourly); err != nil {
		return 0, fmt.Errorf("writing hourly spend: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("writing spend: committing: %w", err)
	}
	return len(inserted), nil
}

// checkSpendRow rejects a row the spend log cannot hold, before any of its batch is
// written.
func checkSpendRow(r *SpendRow) error {
	if r.ID == "" {
		return errors.New("spend row without an id")
	}
	at, err := toNanos(r.Time)
	if err != nil {
		return fmt.Errorf("spend row %s: %w", r.ID, err)
	}
	if at < 0 {
		return fmt.Errorf("spend row %s: time before 1970", r.ID)
	}
	return nil
}

// insertSpendChunks inserts rows with multi-row INSERTs, one round trip per
// spendChunk rows, and returns those that were new.
func (db *DB) insertSpendChunks(ctx context.Context, tx *sql.Tx, rows []SpendRow, days *dayCache) ([]*SpendRow, error) {
	var inserted []*SpendRow
	for chunk := range slices.Chunk(rows, spendChunk) {
		got, err := db.insertSpendChunk(ctx, tx, chunk, days)
		if err != nil {
			return nil, err
		}
		inserted = append(inserted, got...)
	}
	return inserted, nil
}

// insertSpendChunk inserts rows and returns those that were new.
func (db *DB) insertSpendChunk(ctx context.Context, tx *sql.Tx, rows []SpendRow, days *dayCache) ([]*SpendRow, error) {
	args := make([]any, 0, len(rows)*len(spendColumns))
	byID := make(map[string]*SpendRow, len(rows))
	for i := range rows {
		r := &rows[i]
		args = appendSpendArgs(args, r, days.dayStart(r.Time))
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

// appendSpendArgs appends r's column values in spendColumns order; day is its local day.
func appendSpendArgs(dst []any, r *SpendRow, day int64) []any {
	return append(dst, r.ID, r.Time.UnixNano(), day, r.RecordType, r.RequestID, r.Attempt, r.KeyID,
		r.ParentKeyID, r.Project, r.Endpoint, r.Model, r.Provider, r.UpstreamModel, r.Status, r.Stream,
		r.PromptTokens, r.CompletionTokens, r.CachedTokens, r.CacheWriteTokens, r.ReasoningTokens,
		r.CostNano, r.UsageSource, r.PriceVersion, r.LatencyMS, r.TTFTMS, r.Attempts, r.ErrorCode,
		r.SourceIP, r.UserAgent)
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
