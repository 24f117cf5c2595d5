package billing

import (
	"fmt"
	"time"
)

// Period is how often a budget starts again: day, week, month or total (never).
type Period string

// The budget periods of API.md.
const (
	PeriodDay   Period = "day"
	PeriodWeek  Period = "week"
	PeriodMonth Period = "month"
	PeriodTotal Period = "total"
)

// ParsePeriod checks s against the four periods.
func ParsePeriod(s string) (Period, error) {
	switch p := Period(s); p {
	case PeriodDay, PeriodWeek, PeriodMonth, PeriodTotal:
		return p, nil
	}
	return "", fmt.Errorf("budget period %q: must be day, week, month or total", s)
}

// totalStart and totalEnd bound the one window of a total budget.
var (
	totalStart = time.Unix(0, 0).UTC()
	totalEnd   = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Window returns the calendar window of the period that holds t, in loc: days start at
// local midnight, weeks on Monday at local midnight (ISO 8601), months on the 1st at
// local midnight. A day across a daylight-saving change is 23 or 25 hours long. A total
// budget has one window, from the Unix epoch to the year 2262.
func (p Period) Window(t time.Time, loc *time.Location) (start, end time.Time) {
	l := t.In(loc)
	y, m, d := l.Date()
	switch p {
	case PeriodDay:
		start = time.Date(y, m, d, 0, 0, 0, 0, loc)
		end = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	case PeriodWeek:
		back := (int(l.Weekday()) + 6) % 7 // Days since Monday.
		start = time.Date(y, m, d-back, 0, 0, 0, 0, loc)
		end = time.Date(y, m, d-back+7, 0, 0, 0, 0, loc)
	case PeriodMonth:
		start = time.Date(y, m, 1, 0, 0, 0, 0, loc)
		end = time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
	default:
		return totalStart, totalEnd
	}
	return start, end
}
