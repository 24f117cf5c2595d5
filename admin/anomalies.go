package admin

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/detect"
	"github.com/tollgate-llm/tollgate/store"
)

// AnomalyQuery is the query of GET /admin/v1/anomalies, as text: from and to (RFC 3339
// times or dates), key_id, severity (the lowest to list: low, medium or high), cursor
// and limit (100 by default, at most 1000).
type AnomalyQuery struct {
	From, To, KeyID, Severity, Cursor, Limit string
}

// AnomalyView is one finding of the anomaly detectors as the admin API shows it.
type AnomalyView = detect.Record

// AnomalyPage is one page of findings, newest first.
type AnomalyPage struct {
	Data       []AnomalyView `json:"data"`
	NextCursor string        `json:"next_cursor"`
}

// AnomalyStore lists findings; *store.DB is one.
type AnomalyStore interface {
	ListAnomalies(ctx context.Context, f store.AnomalyFilter) ([]store.Anomaly, error)
}

var _ AnomalyStore = (*store.DB)(nil)

// ListAnomalies answers one page of findings. Bad query values are 400s naming the
// parameter.
func ListAnomalies(ctx context.Context, s AnomalyStore, q AnomalyQuery) (AnomalyPage, error) {
	f, err := anomalyFilter(q)
	if err != nil {
		return AnomalyPage{}, err
	}
	limit := f.Limit
	f.Limit++
	rows, err := s.ListAnomalies(ctx, f)
	if err != nil {
		return AnomalyPage{}, err
	}
	p := AnomalyPage{Data: make([]AnomalyView, 0, len(rows))}
	if len(rows) > limit {
		rows = rows[:limit]
		p.NextCursor = billing.EncodeCursor(rows[limit-1].Time, rows[limit-1].ID)
	}
	for _, r := range rows {
		v := AnomalyView{ID: r.ID, Time: r.Time, KeyID: r.KeyID, Project: r.Project, Kind: r.Kind,
			Severity: r.Severity, Score: r.Score, WindowStart: r.WindowStart, Summary: r.Summary, Action: r.Action}
		_ = json.Unmarshal([]byte(r.Details), &v.Details) // A row edited into bad JSON still lists.
		p.Data = append(p.Data, v)
	}
	return p, nil
}

func anomalyFilter(q AnomalyQuery) (store.AnomalyFilter, error) {
	f := store.AnomalyFilter{KeyID: q.KeyID, Limit: 100}
	var err error
	if f.From, err = parseTime("from", q.From); err != nil {
		return f, err
	}
	if f.To, err = parseTime("to", q.To); err != nil {
		return f, err
	}
	if q.Severity != "" {
		i := slices.Index(detect.Severities, q.Severity)
		if i < 0 {
			return f, apierr.InvalidValue("severity", "severity must be low, medium or high (the lowest to list)")
		}
		f.Severities = detect.Severities[i:]
	}
	if q.Limit != "" {
		n, err := strconv.Atoi(q.Limit)
		if err != nil || n <= 0 || n > 1000 {
			return f, apierr.InvalidValue("limit", "limit must be a whole number from 1 to 1000")
		}
		f.Limit = n
	}
	if q.Cursor != "" {
		if f.BeforeTime, f.BeforeID, err = billing.DecodeCursor(q.Cursor); err != nil {
			return f, err
		}
	}
	return f, nil
}
