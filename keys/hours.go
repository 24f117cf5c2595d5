package keys

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Zone names work on hosts and images without a zoneinfo database.
)

// Hours are the times of day a key may be used: one or more ranges of wall-clock time in
// one IANA time zone, written "08:00-20:00 UTC" or "22:00-06:00,12:00-13:00
// Europe/Paris". A range includes its start and excludes its end; a range whose end is
// before its start wraps past midnight; "24:00" is the end of the day. Without a zone
// the times are UTC. Daylight saving time follows the zone's wall clock.
type Hours struct {
	ranges []hourRange
	loc    *time.Location
	text   string
}

// hourRange is [start, end) in seconds since midnight; start > end wraps.
type hourRange struct{ start, end int }

// ParseHours reads an allowed_hours value.
func ParseHours(s string) (*Hours, error) {
	spec, zone, _ := strings.Cut(strings.TrimSpace(s), " ")
	zone = strings.TrimSpace(zone)
	if zone == "" {
		zone = "UTC"
	}
	if zone == "Local" {
		return nil, fmt.Errorf("%q: name a time zone such as UTC or Europe/Paris, not Local", s)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("%q: unknown time zone %q", s, zone)
	}
	h := &Hours{loc: loc, text: strings.TrimSpace(s)}
	for _, r := range strings.Split(spec, ",") {
		from, to, ok := strings.Cut(r, "-")
		start, err1 := clockSeconds(from, false)
		end, err2 := clockSeconds(to, true)
		if !ok || err1 != nil || err2 != nil || start == end {
			return nil, fmt.Errorf("%q: write ranges as HH:MM-HH:MM, e.g. \"08:00-20:00 UTC\"", s)
		}
		h.ranges = append(h.ranges, hourRange{start, end})
	}
	return h, nil
}

// clockSeconds reads "HH:MM" as seconds since midnight; "24:00" only as an end.
func clockSeconds(s string, end bool) (int, error) {
	hh, mm, ok := strings.Cut(strings.TrimSpace(s), ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	switch {
	case !ok || len(hh) != 2 || len(mm) != 2 || err1 != nil || err2 != nil || m < 0 || m > 59 || h < 0:
		return 0, fmt.Errorf("bad time %q", s)
	case h == 24 && m == 0 && end:
		return 86400, nil
	case h > 23:
		return 0, fmt.Errorf("bad time %q", s)
	}
	return h*3600 + m*60, nil
}

// Contains reports whether t falls in one of the ranges.
func (h *Hours) Contains(t time.Time) bool {
	w := t.In(h.loc)
	sec := w.Hour()*3600 + w.Minute()*60 + w.Second()
	for _, r := range h.ranges {
		if r.start < r.end && sec >= r.start && sec < r.end {
			return true
		}
		if r.start > r.end && (sec >= r.start || sec < r.end) {
			return true
		}
	}
	return false
}

// String returns the value as written.
func (h *Hours) String() string { return h.text }
