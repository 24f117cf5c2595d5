package keys

import (
	"testing"
	"time"
)

func TestHours(t *testing.T) {
	utc := func(h, m int) time.Time { return time.Date(2026, 11, 26, h, m, 0, 0, time.UTC) }
	for _, tc := range []struct {
		spec string
		at   time.Time
		want bool
	}{
		{"08:00-20:00 UTC", utc(8, 0), true},
		{"08:00-20:00 UTC", utc(19, 59), true},
		{"08:00-20:00 UTC", utc(20, 0), false}, // the end is excluded
		{"08:00-20:00 UTC", utc(7, 59), false},
		{"08:00-20:00", utc(12, 0), true}, // UTC without a zone
		{"22:00-06:00 UTC", utc(23, 0), true},
		{"22:00-06:00 UTC", utc(3, 0), true},
		{"22:00-06:00 UTC", utc(6, 0), false},
		{"22:00-06:00 UTC", utc(12, 0), false},
		{"00:00-24:00 UTC", utc(23, 59), true},
		{"09:00-12:00,13:00-17:00 UTC", utc(12, 30), false},
		{"09:00-12:00,13:00-17:00 UTC", utc(13, 30), true},
		// 12:00 UTC in November is 13:00 in Paris (UTC+1) and 21:00 in Tokyo.
		{"13:00-14:00 Europe/Paris", utc(12, 0), true},
		{"13:00-14:00 Europe/Paris", utc(13, 0), false},
		{"20:00-22:00 Asia/Tokyo", utc(12, 0), true},
		// In July Paris is UTC+2: 09:00 local is 07:00 UTC.
		{"09:00-10:00 Europe/Paris", time.Date(2026, 7, 1, 7, 30, 0, 0, time.UTC), true},
		{"09:00-10:00 Europe/Paris", time.Date(2026, 7, 1, 8, 30, 0, 0, time.UTC), false},
	} {
		h, err := ParseHours(tc.spec)
		if err != nil {
			t.Fatalf("ParseHours(%q): %v", tc.spec, err)
		}
		if got := h.Contains(tc.at); got != tc.want {
			t.Errorf("%q contains %s = %v, want %v", tc.spec, tc.at.Format(time.RFC3339), got, tc.want)
		}
	}
}

func TestParseHoursRejects(t *testing.T) {
	for _, s := range []string{"", "8-20", "08:00 UTC", "08:00-08:00 UTC", "25:00-26:00", "08:60-09:00",
		"24:00-06:00", "08:00-20:00 Mars/Olympus", "08:00-20:00 Local", "8:00-20:00", "08:00-20:00,"} {
		if _, err := ParseHours(s); err == nil {
			t.Errorf("ParseHours(%q) accepted", s)
		}
	}
}
