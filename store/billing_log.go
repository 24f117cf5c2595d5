package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// SpendLogQuery selects spend log rows, newest first. Zero fields match everything.
type SpendLogQuery struct {
	// From and To bound the request times, From included, To excluded.
	From, To time.Time
	KeyID    string
	// StatusMin and StatusMax bound the HTTP status, both included.
	StatusMin, StatusMax int
	// BeforeTime and BeforeID are a cursor: only rows older than this one, in
	// (time, id) order. BeforeID empty means no cursor.
	BeforeTime time.Time
	BeforeID   string
	// Limit caps the number of rows; zero means 100.
	Limit int
}

// ListSpendLog returns spend log rows newest first, by time then id, through the
// (at, id), (key_id, at, id) and (status, at, id) indexes.
func (db *DB) ListSpendLog(ctx context.Context, q SpendLogQuery) ([]SpendRow, error) {
	var where []string
	var args []any
	cond := func(c string, a ...any) { where = append(where, c); args = append(args, a...) }
	if !q.From.IsZero() {
		cond("at >= ?", q.From.UnixNano())
	}
	if !q.To.IsZero() {
		cond("at < ?", q.To.UnixNano())
	}
	if q.KeyID != "" {
		cond("key_id = ?", q.KeyID)
	}
	if q.StatusMin != 0 || q.StatusMax != 0 {
		if q.StatusMin == q.StatusMax {
			cond("status = ?", q.StatusMin)
		} else {
			cond("status >= ? AND status <= ?", q.StatusMin, q.StatusMax)
		}
	}
	if q.BeforeID != "" {
		cond("(at, id) < (?, ?)", q.BeforeTime.UnixNano(), q.BeforeID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	text := "SELECT " + strings.Join(spendColumns, ", ") + " FROM spend_log"
	if len(where) > 0 {
		text += " WHERE " + strings.Join(where, " AND ")
	}
	text += " ORDER BY at DESC, id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := db.db.QueryContext(ctx, db.Rebind(text), args...)
	if err != nil {
		return nil, fmt.Errorf("listing spend log: %w", err)
	}
	defer rows.Close()
	var out []SpendRow
	for rows.Next() {
		var r SpendRow
		var at, day int64
		if err := rows.Scan(&r.ID, &at, &day, &r.RecordType, &r.RequestID, &r.Attempt, &r.KeyID,
			&r.ParentKeyID, &r.Project, &r.Endpoint, &r.Model, &r.Provider, &r.UpstreamModel, &r.Status,
			&r.Stream, &r.PromptTokens, &r.CompletionTokens, &r.CachedTokens, &r.CacheWriteTokens,
			&r.ReasoningTokens, &r.CostNano, &r.UsageSource, &r.PriceVersion, &r.LatencyMS, &r.TTFTMS,
			&r.Attempts, &r.ErrorCode, &r.SourceIP, &r.UserAgent); err != nil {
			return nil, fmt.Errorf("listing spend log: %w", err)
		}
		r.Time = fromNanos(at)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing spend log: %w", err)
	}
	return out, nil
}

// CountSpend returns how many spend log rows there are; tests and the CLI's checks use it.
func (db *DB) CountSpend(ctx context.Context) (int64, error) {
	var n int64
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM spend_log`).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting spend: %w", err)
	}
	return n, nil
}
