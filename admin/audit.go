package admin

import (
	"context"
	"strconv"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/audit"
)

// AuditQuery is the admin API's audit list query, as text.
type AuditQuery struct {
	From, To, Actor, Action, Cursor, Limit string
}

// AuditFilter parses q. from and to are RFC 3339 times or dates (2026-01-02).
func AuditFilter(q AuditQuery) (audit.Filter, error) {
	f := audit.Filter{Actor: q.Actor, Action: q.Action, Cursor: q.Cursor}
	var err error
	if f.From, err = parseTime("from", q.From); err != nil {
		return f, err
	}
	if f.To, err = parseTime("to", q.To); err != nil {
		return f, err
	}
	if q.Limit != "" {
		n, err := strconv.Atoi(q.Limit)
		if err != nil || n <= 0 || n > 1000 {
			return f, apierr.InvalidValue("limit", "limit must be a whole number from 1 to 1000")
		}
		f.Limit = n
	}
	return f, nil
}

// parseTime reads an optional RFC 3339 time or a date.
func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, apierr.InvalidValue(field, "'"+field+"' must be an RFC 3339 time (2026-01-02T15:04:05Z) or a date (2026-01-02)")
}

// AuditReader is the audit log's read side.
type AuditReader interface {
	List(ctx context.Context, f audit.Filter) (audit.Page, error)
	Verify(ctx context.Context) (audit.Result, error)
}

var _ AuditReader = (*audit.Log)(nil)

// ListAudit returns one page of the audit log.
func ListAudit(ctx context.Context, r AuditReader, q AuditQuery) (audit.Page, error) {
	f, err := AuditFilter(q)
	if err != nil {
		return audit.Page{}, err
	}
	p, err := r.List(ctx, f)
	if err == audit.ErrBadCursor {
		return p, apierr.InvalidValue("cursor", "cursor is not one this API returned")
	}
	return p, err
}
