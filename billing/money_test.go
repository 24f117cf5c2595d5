package billing

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

func TestParseUSD(t *testing.T) {
	tests := []struct {
		in   string
		want Money
	}{
		{"0", 0},
		{"2", 2 * USD},
		{"2.50", 2*USD + 50*Cent},
		{"0.075", 75_000_000},
		{".5", 500_000_000},
		{"5.", 5 * USD},
		{"0.000000001", 1},
		{"0.0000000010", 1},
		{"1e-3", MicroUSD * 1000},
		{"2.5E+2", 250 * USD},
		{"1e9", 1e9 * USD},
		{"0.0375", 37_500_000},
		{"00012.3400", 12*USD + 34*Cent},
		{"9223372036.854775807", math.MaxInt64},
		{"1e-40", -1}, // rejected: finer than a nano-dollar
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseUSD(tt.in)
			if tt.want < 0 {
				if err == nil {
					t.Fatalf("ParseUSD(%q) = %d, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseUSD(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseUSDRejects(t *testing.T) {
	for _, in := range []string{"", ".", "-1", "+1", " 1", "1 ", "1,5", "1.2.3", "NaN", "Inf",
		"0x10", "1e", "1e+", "e5", "1e99", "0.0000000001", "9223372036.854775808", "1_000",
		"12345678901234567890", "1.5e-10"} {
		t.Run(in, func(t *testing.T) {
			if got, err := ParseUSD(in); err == nil {
				t.Fatalf("ParseUSD(%q) = %d, want an error", in, got)
			} else if !errors.Is(err, ErrNotDecimal) {
				t.Fatalf("error %v does not wrap ErrNotDecimal", err)
			}
		})
	}
}

func TestMoneyDecimal(t *testing.T) {
	tests := []struct {
		m    Money
		want string
	}{
		{0, "0"},
		{1, "0.000000001"},
		{2*USD + 50*Cent, "2.5"},
		{75 * MicroUSD, "0.000075"},
		{-125 * Cent, "-1.25"},
		{math.MaxInt64, "9223372036.854775807"},
		{math.MinInt64, "-9223372036.854775808"},
	}
	for _, tt := range tests {
		if got := tt.m.Decimal(); got != tt.want {
			t.Errorf("Money(%d).Decimal() = %q, want %q", int64(tt.m), got, tt.want)
		}
		if tt.m >= 0 {
			back, err := ParseUSD(tt.want)
			if err != nil || back != tt.m {
				t.Errorf("ParseUSD(%q) = %d, %v; want the round trip to %d", tt.want, back, err, tt.m)
			}
		}
	}
	if got := Money(-125 * Cent).String(); got != "-$1.25" {
		t.Errorf("String() = %q", got)
	}
}

func TestMoneyJSON(t *testing.T) {
	in := struct {
		Cost Money `json:"cost_usd"`
	}{Cost: 123_456_789_012}
	b, err := json.Marshal(in)
	if err != nil || string(b) != `{"cost_usd":123.456789012}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var out struct {
		Cost Money `json:"cost_usd"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Cost != in.Cost {
		t.Fatalf("Unmarshal = %d, %v", out.Cost, err)
	}
}

func TestWidePerMillionRoundsHalfUp(t *testing.T) {
	tests := []struct {
		tokens int64
		price  Money
		want   Money
	}{
		{1, 37_500_000, 38},                             // 37.5 nano → 38
		{3, 37_500_000, 113},                            // 112.5 → 113
		{1, 37_499_999, 37},                             // 37.499999 → 37
		{2, 250_000, 1},                                 // 0.5 → 1
		{1, 499_999, 0},                                 // 0.499999 → 0
		{math.MaxInt64, USD, math.MaxInt64},             // saturates instead of wrapping
		{1_000_000_000, 10_000 * USD, 10_000_000 * USD}, // 1e9 tokens at $10k/MTok
	}
	for _, tt := range tests {
		var w wide
		w.addMul(tt.tokens, tt.price)
		if got := w.perMillion(); got != tt.want {
			t.Errorf("%d tokens × %d /1e6 = %d, want %d", tt.tokens, tt.price, got, tt.want)
		}
	}
}
