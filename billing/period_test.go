package billing

import (
	"testing"
	"time"
)

func TestPeriodWindow(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		name       string
		period     Period
		at         time.Time
		loc        *time.Location
		start, end time.Time
	}{
		{"day in Tokyo", PeriodDay, time.Date(2026, 11, 3, 14, 59, 0, 0, time.UTC), tokyo,
			time.Date(2026, 11, 3, 0, 0, 0, 0, tokyo), time.Date(2026, 11, 4, 0, 0, 0, 0, tokyo)},
		{"next day in Tokyo", PeriodDay, time.Date(2026, 11, 3, 15, 0, 0, 0, time.UTC), tokyo,
			time.Date(2026, 11, 4, 0, 0, 0, 0, tokyo), time.Date(2026, 11, 5, 0, 0, 0, 0, tokyo)},
		{"week starts Monday", PeriodWeek, time.Date(2026, 11, 8, 23, 0, 0, 0, time.UTC), time.UTC, // a Sunday
			time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)},
		{"Monday itself", PeriodWeek, time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC), time.UTC,
			time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)},
		{"month across year", PeriodMonth, time.Date(2026, 12, 31, 23, 0, 0, 0, ny), ny,
			time.Date(2026, 12, 1, 0, 0, 0, 0, ny), time.Date(2027, 1, 1, 0, 0, 0, 0, ny)},
		{"DST day is 25h", PeriodDay, time.Date(2026, 11, 1, 12, 0, 0, 0, ny), ny,
			time.Date(2026, 11, 1, 0, 0, 0, 0, ny), time.Date(2026, 11, 2, 0, 0, 0, 0, ny)},
		{"total", PeriodTotal, time.Date(2026, 11, 1, 12, 0, 0, 0, ny), ny, totalStart, totalEnd},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, end := tt.period.Window(tt.at, tt.loc)
			if !start.Equal(tt.start) || !end.Equal(tt.end) {
				t.Fatalf("Window = [%s, %s), want [%s, %s)", start, end, tt.start, tt.end)
			}
		})
	}
	start, end := PeriodDay.Window(time.Date(2026, 11, 1, 12, 0, 0, 0, ny), ny)
	if end.Sub(start) != 25*time.Hour {
		t.Errorf("the day DST ends lasts %s, want 25h", end.Sub(start))
	}
	if _, err := ParsePeriod("year"); err == nil {
		t.Error("ParsePeriod accepted year")
	}
}
