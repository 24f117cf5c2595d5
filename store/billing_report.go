package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Report groupings.
const (
	GroupKey      = "key"
	GroupProject  = "project"
	GroupModel    = "model"
	GroupProvider = "provider"
	GroupDay      = "day"
	GroupHour     = "hour"
)

// SpendQuery selects and groups spend for SpendReport. Empty filters match everything.
type SpendQuery struct {
	// From and To bound the request times, From included, To excluded.
	From, To                        time.Time
	KeyID, Project, Model, Provider string
	// GroupBy is one of the Group* names.
	GroupBy string
	// Location is the time zone the spend was written with (its local days).
	Location *time.Location
}

// SpendGroup is one group of a spend report. Group is the key id, project, model or
// provider, the local date ("2026-11-01") or the hour in RFC 3339.
type SpendGroup struct {
	Group            string
	Requests         int64
	PromptTokens     int64
	CompletionTokens int64
	CachedTokens     int64
	CostNano         int64
}

// segment is a time range answered from one table.
type segment struct {
	table    string
	from, to int64
}

// SpendReport sums spend by q.GroupBy, ordered by group. Whole local days are read
// from spend_daily, whole hours from spend_hourly, and only the minutes at the edges
// of a range that does not start or end on an hour from the spend log (through its time
// index), so a month's report reads about (days × keys × models) rollup rows whatever
// the traffic. Edges older than the spend log's retention are missing from the answer.
func (db *DB) SpendReport(ctx context.Context, q SpendQuery) ([]SpendGroup, error) {
	if q.Location == nil {
		q.Location = time.UTC
	}
	if !q.From.Before(q.To) {
		return nil, nil
	}
	segs := planSegments(q.From, q.To, q.Location, q.GroupBy != GroupHour)
	var parts []string
	var args []any
	for _, s := range segs {
		part, a, err := segmentQuery(s, q)
		if err != nil {
			return nil, err
		}
		parts = append(parts, part)
		args = append(args, a...)
	}
	text := `SELECT g, CAST(SUM(r) AS BIGINT), CAST(SUM(p) AS BIGINT), CAST(SUM(c) AS BIGINT),
		CAST(SUM(k) AS BIGINT), CAST(SUM(n) AS BIGINT) FROM (` + strings.Join(parts, " UNION ALL ") +
		`) s GROUP BY g ORDER BY g`
	rows, err := db.db.QueryContext(ctx, db.Rebind(text), args...)
	if err != nil {
		return nil, fmt.Errorf("reading spend report: %w", err)
	}
	defer rows.Close()
	var out []SpendGroup
	timeGroup := q.GroupBy == GroupDay || q.GroupBy == GroupHour
	for rows.Next() {
		var g SpendGroup
		var s string
		var n int64
		dst := any(&s)
		if timeGroup {
			dst = &n
		}
		if err := rows.Scan(dst, &g.Requests, &g.PromptTokens, &g.CompletionTokens, &g.CachedTokens, &g.CostNano); err != nil {
			return nil, fmt.Errorf("reading spend report: %w", err)
		}
		g.Group = s
		if timeGroup {
			g.Group = formatBucket(n, q)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading spend report: %w", err)
	}
	return out, nil
}

// formatBucket renders a day or hour bucket in the report's time zone.
func formatBucket(n int64, q SpendQuery) string {
	t := time.Unix(0, n).In(q.Location)
	if q.GroupBy == GroupDay {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339)
}

// groupColumns maps a grouping to its expression per table.
var groupColumns = map[string]map[string]string{
	GroupKey:      {"spend_daily": "key_id", "spend_hourly": "key_id", "spend_log": "key_id"},
	GroupProject:  {"spend_daily": "project", "spend_hourly": "project", "spend_log": "project"},
	GroupModel:    {"spend_daily": "model", "spend_hourly": "model", "spend_log": "model"},
	GroupProvider: {"spend_daily": "provider", "spend_hourly": "provider", "spend_log": "provider"},
	GroupDay:      {"spend_daily": "day", "spend_hourly": "day", "spend_log": "day"},
	GroupHour:     {"spend_hourly": "hour", "spend_log": "(at - at % 3600000000000)"},
}

// segmentQuery returns the SELECT of one segment and its arguments.
func segmentQuery(s segment, q SpendQuery) (string, []any, error) {
	g, ok := groupColumns[q.GroupBy][s.table]
	if !ok {
		return "", nil, fmt.Errorf("reading spend report: unknown grouping %q", q.GroupBy)
	}
	bucket, requests := "day", "requests"
	switch s.table {
	case "spend_hourly":
		bucket = "hour"
	case "spend_log":
		bucket, requests = "at", "CASE WHEN record_type = 'request' THEN 1 ELSE 0 END"
	}
	text := "SELECT " + g + " AS g, " + requests + " AS r, prompt_tokens AS p, completion_tokens AS c, " +
		"cached_tokens AS k, cost_nano AS n FROM " + s.table + " WHERE " + bucket + " >= ? AND " + bucket + " < ?"
	args := []any{s.from, s.to}
	for _, f := range []struct{ col, val string }{
		{"key_id", q.KeyID}, {"project", q.Project}, {"model", q.Model}, {"provider", q.Provider},
	} {
		if f.val != "" {
			text += " AND " + f.col + " = ?"
			args = append(args, f.val)
		}
	}
	return text, args, nil
}

// planSegments splits [from, to) into whole local days (when useDays), whole UTC hours
// and the remaining edges, each answered by the cheapest table that is exact for it.
func planSegments(from, to time.Time, loc *time.Location, useDays bool) []segment {
	if useDays {
		d0, d1 := nextMidnight(from, loc), lastMidnight(to, loc)
		if d0.Before(d1) {
			segs := []segment{{"spend_daily", d0.UnixNano(), d1.UnixNano()}}
			segs = append(segs, planHours(from, d0)...)
			return append(segs, planHours(d1, to)...)
		}
	}
	return planHours(from, to)
}

// planHours splits [a, b) into whole UTC hours and edges read from the spend log.
func planHours(a, b time.Time) []segment {
	if !a.Before(b) {
		return nil
	}
	h0 := a.Truncate(time.Hour)
	if h0.Before(a) {
		h0 = h0.Add(time.Hour)
	}
	h1 := b.Truncate(time.Hour)
	if !h0.Before(h1) {
		return []segment{{"spend_log", a.UnixNano(), b.UnixNano()}}
	}
	var segs []segment
	if a.Before(h0) {
		segs = append(segs, segment{"spend_log", a.UnixNano(), h0.UnixNano()})
	}
	segs = append(segs, segment{"spend_hourly", h0.UnixNano(), h1.UnixNano()})
	if h1.Before(b) {
		segs = append(segs, segment{"spend_log", h1.UnixNano(), b.UnixNano()})
	}
	return segs
}

// lastMidnight returns the start of t's local day.
func lastMidnight(t time.Time, loc *time.Location) time.Time {
	return time.Unix(0, DayStart(t, loc))
}

// nextMidnight returns the first local midnight at or after t.
func nextMidnight(t time.Time, loc *time.Location) time.Time {
	m := lastMidnight(t, loc)
	if m.Equal(t) {
		return m
	}
	y, mo, d := m.In(loc).Date()
	return time.Date(y, mo, d+1, 0, 0, 0, 0, loc)
}
