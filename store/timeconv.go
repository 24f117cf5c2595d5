package store

import (
	"database/sql"
	"fmt"
	"math"
	"time"
)

// Bounds of the times that fit in int64 Unix nanoseconds.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// toNanos converts t to Unix nanoseconds, or fails if t does not fit.
func toNanos(t time.Time) (int64, error) {
	if t.Before(minTime) || t.After(maxTime) {
		return 0, fmt.Errorf("time %s is outside the storable range", t.Format(time.RFC3339))
	}
	return t.UnixNano(), nil
}

// toNullNanos converts an optional time; nil becomes NULL.
func toNullNanos(t *time.Time) (sql.NullInt64, error) {
	if t == nil {
		return sql.NullInt64{}, nil
	}
	n, err := toNanos(*t)
	return sql.NullInt64{Int64: n, Valid: err == nil}, err
}

// fromNanos converts Unix nanoseconds to a UTC time.
func fromNanos(n int64) time.Time {
	return time.Unix(0, n).UTC()
}

// fromNullNanos converts an optional column; NULL becomes nil.
func fromNullNanos(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromNanos(n.Int64)
	return &t
}
