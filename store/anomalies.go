package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// anomalyColumns lists the anomalies columns in the order ListAnomalies reads them.
const anomalyColumns = "id, at, key_id, project, kind, severity, score, window_start, summary, details, action"

// Anomaly is one finding of the anomaly detectors.
type Anomaly struct {
	ID             string
	Time           time.Time
	KeyID, Project string
	Kind, Severity string
	Score          float64
	WindowStart    time.Time
	Summary        string
	// Details is a JSON object.
	Details string
	// Action is what was done about it: "suspended", or empty.
	Action string
}

// AnomalyFilter selects anomalies, newest first. Zero fields match everything.
type AnomalyFilter struct {
	// From and To bound the times, From included, To excluded.
	From, To time.Time
	KeyID    string
	// Severities lists the severities to include.
	Severities []string
	// BeforeTime and BeforeID are a cursor: only rows older than this one, in
	// (time, id) order. BeforeID empty means no cursor.
	BeforeTime time.Time
	BeforeID   string
	// Limit caps the number of rows; zero means 100.
	Limit int
}

// InsertAnomaly stores a finding; one with the same id already stored is left as it is.
func (db *DB) InsertAnomaly(ctx context.Context, a Anomaly) error {
	at, err := toNanos(a.Time)
	if err != nil {
		return fmt.Errorf("storing anomaly: %w", err)
	}
	win, err := toNanos(a.WindowStart)
	if err != nil {
		return fmt.Errorf("storing anomaly: %w", err)
	}
	if a.Details == "" {
		a.Details = "{}"
	}
	_, err = db.db.ExecContext(ctx, db.Rebind(`INSERT INTO anomalies (`+anomalyColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`),
		a.ID, at, a.KeyID, a.Project, a.Kind, a.Severity, a.Score, win, a.Summary, a.Details, a.Action)
	if err != nil {
		return fmt.Errorf("storing anomaly: %w", err)
	}
	return nil
}

// ListAnomalies returns the anomalies that match f, newest first, by time then id.
func (db *DB) ListAnomalies(ctx context.Context, f AnomalyFilter) ([]Anomaly, error) {
	var where []string
	var args []any
	cond := func(c string, a ...any) { where = append(where, c); args = append(args, a...) }
	if !f.From.IsZero() {
		cond("at >= ?", f.From.UnixNano())
	}
	if !f.To.IsZero() {
		cond("at < ?", f.To.UnixNano())
	}
	if f.KeyID != "" {
		cond("key_id = ?", f.KeyID)
	}
	if len(f.Severities) > 0 {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(f.Severities)), ", ")
		sev := make([]any, len(f.Severities))
		for i, s := range f.Severities {
			sev[i] = s
		}
		cond("severity IN ("+marks+")", sev...)
	}
	if f.BeforeID != "" {
		cond("(at, id) < (?, ?)", f.BeforeTime.UnixNano(), f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	text := "SELECT " + anomalyColumns + " FROM anomalies"
	if len(where) > 0 {
		text += " WHERE " + strings.Join(where, " AND ")
	}
	text += " ORDER BY at DESC, id DESC LIMIT ?"
	rows, err := db.db.QueryContext(ctx, db.Rebind(text), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("listing anomalies: %w", err)
	}
	defer rows.Close()
	var out []Anomaly
	for rows.Next() {
		var a Anomaly
		var at, win int64
		if err := rows.Scan(&a.ID, &at, &a.KeyID, &a.Project, &a.Kind, &a.Severity, &a.Score, &win,
			&a.Summary, &a.Details, &a.Action); err != nil {
			return nil, fmt.Errorf("listing anomalies: %w", err)
		}
		a.Time, a.WindowStart = fromNanos(at), fromNanos(win)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing anomalies: %w", err)
	}
	return out, nil
}
