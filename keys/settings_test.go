package keys

import (
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"
)

func TestParseUSD(t *testing.T) {
	for s, want := range map[string]int64{"0": 0, "10": 10 * NanosPerUSD, "0.25": NanosPerUSD / 4,
		"0.000000001": 1, "1.5": 1_500_000_000, "9000000000": 9e18} {
		got, err := ParseUSD(s)
		if err != nil || got != want {
			t.Errorf("ParseUSD(%q) = %d, %v; want %d", s, got, err, want)
		}
		if err == nil && FormatUSD(got) != s {
			t.Errorf("FormatUSD(%d) = %q, want %q", got, FormatUSD(got), s)
		}
	}
	for _, s := range []string{"", "-1", "1e3", "1.", ".5", "0.0000000001", "1,5", "+1", "99999999999", "NaN"} {
		if _, err := ParseUSD(s); err == nil {
			t.Errorf("ParseUSD(%q) accepted", s)
		}
	}
}

func TestNormalizeNamesTheBadField(t *testing.T) {
	for field, s := range map[string]Settings{
		"models":           {Models: []string{"gpt[4]"}},
		"endpoints":        {Endpoints: []string{"images"}},
		"allowed_ips":      {AllowedIPs: []string{"10.0.0.0/33"}},
		"allowed_hours":    {AllowedHours: "9-5"},
		"limits":           {Limits: &Limits{RPM: -1}},
		"budget.limit_usd": {Budget: &Budget{LimitUSD: "1e3", Period: "month"}},
		"budget.period":    {Budget: &Budget{LimitUSD: "10", Period: "year"}},
		"metadata":         {Metadata: json.RawMessage(`[1]`)},
	} {
		err := s.Normalize()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%s: got %v", field, err)
		}
	}
}

func TestNormalizeCanonicalCIDRs(t *testing.T) {
	s := Settings{AllowedIPs: []string{"10.1.2.3/8", "192.168.1.7", "2001:db8::1/32", "::ffff:10.0.0.1", "2001:db8::5"}}
	if err := s.Normalize(); err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.1.7/32", "2001:db8::/32", "10.0.0.1/32", "2001:db8::5/128"}
	if !slices.Equal(s.AllowedIPs, want) {
		t.Fatalf("got %v, want %v", s.AllowedIPs, want)
	}
	if !slices.Equal(s.Models, []string{"*"}) || len(s.Endpoints) != 4 {
		t.Fatalf("defaults: %v %v", s.Models, s.Endpoints)
	}
}

func TestCheckAccess(t *testing.T) {
	noon := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	p := newPrincipal(&Principal{ID: "k", Kind: KindClient, Settings: Settings{
		Models: []string{"*"}, AllowedIPs: []string{"10.0.0.0/8", "2001:db8::/32"}, AllowedHours: "08:00-20:00 UTC"}})
	for _, tc := range []struct {
		ip   string
		at   time.Time
		code string
	}{
		{"10.1.2.3", noon, ""},
		{"::ffff:10.1.2.3", noon, ""}, // IPv4 seen through an IPv6 socket
		{"2001:db8:1::9", noon, ""},
		{"11.0.0.1", noon, "ip_not_allowed"},
		{"2001:db9::1", noon, "ip_not_allowed"},
		{"10.1.2.3", noon.Add(9 * time.Hour), "outside_allowed_hours"},
	} {
		err := p.CheckAccess(netip.MustParseAddr(tc.ip), tc.at)
		if code(err) != tc.code {
			t.Errorf("%s at %s: got %v, want %q", tc.ip, tc.at.Format("15:04"), err, tc.code)
		}
	}
	if err := p.CheckAccess(netip.Addr{}, noon); code(err) != "ip_not_allowed" {
		t.Errorf("an unknown address passed an IP rule: %v", err)
	}
	open := newPrincipal(&Principal{ID: "o", Kind: KindClient, Settings: Settings{Models: []string{"*"}}})
	if err := open.CheckAccess(netip.MustParseAddr("203.0.113.9"), noon); err != nil {
		t.Errorf("a key without rules was refused: %v", err)
	}
}

func TestPeriodEnd(t *testing.T) {
	// Thursday 26 November 2026, 15:04 UTC.
	now := time.Date(2026, 11, 26, 15, 4, 0, 0, time.UTC)
	for period, want := range map[string]string{"day": "2026-11-27", "week": "2026-11-30", "month": "2026-12-01"} {
		if got := PeriodEnd(period, now); got == nil || got.Format(time.DateOnly) != want {
			t.Errorf("%s ends %v, want %s", period, got, want)
		}
	}
	if PeriodEnd("total", now) != nil {
		t.Error("a total budget resets")
	}
	monday := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	if got := PeriodEnd("week", monday); got.Format(time.DateOnly) != "2026-12-07" {
		t.Errorf("a week starting now ends %v", got)
	}
}
