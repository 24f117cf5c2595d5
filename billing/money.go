package billing

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Money is an amount in nano-USD (10⁻⁹ USD). Prices per million tokens are Money too:
// the price of one million tokens, so a price like $0.0375/MTok is exact.
type Money int64

// Units of Money.
const (
	NanoUSD  Money = 1
	MicroUSD Money = 1_000
	Cent     Money = 10_000_000
	USD      Money = 1_000_000_000
)

// nanoDigits is the number of decimal places Money holds.
const nanoDigits = 9

// maxExponent bounds the exponent ParseUSD accepts, far beyond any amount that fits.
const maxExponent = 40

// ErrNotDecimal is wrapped by ParseUSD errors.
var ErrNotDecimal = errors.New("not an exact non-negative USD amount")

// ParseUSD parses a non-negative decimal amount of USD exactly, with no float anywhere.
// It accepts digits with at most one decimal point ("2", "2.50", ".5", "5.") and an
// optional exponent ("1e-3", "2.5E+2"), which is what JSON numbers and YAML decimals look
// like. It rejects signs, spaces, NaN and infinities, amounts above what int64 nano-USD
// holds, and non-zero digits below the nano-dollar ("0.0000000001"): such an amount
// cannot be stored exactly, and rounding money silently is worse than refusing it.
func ParseUSD(s string) (Money, error) {
	digits, scale, err := splitDecimal(s)
	if err != nil {
		return 0, fmt.Errorf("%q: %w: %v", s, ErrNotDecimal, err)
	}
	// The value is digits × 10^-scale; Money wants it × 10^9.
	shift := nanoDigits - scale
	if shift < 0 {
		cut := len(digits) + shift
		if cut < 0 {
			cut = 0
		}
		if strings.TrimLeft(digits[cut:], "0") != "" {
			return 0, fmt.Errorf("%q: %w: finer than a nano-dollar", s, ErrNotDecimal)
		}
		digits, shift = digits[:cut], 0
	}
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return 0, nil
	}
	if len(digits)+shift > 19 {
		return 0, fmt.Errorf("%q: %w: too large", s, ErrNotDecimal)
	}
	n, err := strconv.ParseInt(digits+strings.Repeat("0", shift), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %w: too large", s, ErrNotDecimal)
	}
	return Money(n), nil
}

// splitDecimal returns the significant digits of s and the power of ten they are
// scaled down by: "12.5e-1" is ("125", 2).
func splitDecimal(s string) (digits string, scale int, err error) {
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e := s[i+1:]
		if e == "" || (e[0] != '+' && e[0] != '-' && !isDigits(e)) ||
			((e[0] == '+' || e[0] == '-') && !isDigits(e[1:])) {
			return "", 0, errors.New("bad exponent")
		}
		v, err := strconv.Atoi(e)
		if err != nil || v > maxExponent || v < -maxExponent {
			return "", 0, errors.New("exponent out of range")
		}
		exp = v
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart+frac == "" || !isDigits(intPart) || !isDigits(frac) || strings.Count(mant, ".") > 1 {
		return "", 0, errors.New("want digits with at most one decimal point")
	}
	return intPart + frac, len(frac) - exp, nil
}

// isDigits reports whether s holds only ASCII digits (the empty string does).
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MustUSD is ParseUSD for constants in tests and tables; it panics on a bad amount.
func MustUSD(s string) Money {
	m, err := ParseUSD(s)
	if err != nil {
		panic(err)
	}
	return m
}

// Decimal returns m in USD as the shortest exact decimal: "0", "2.5", "0.000000001",
// "-1.25". It is what reports, CSV and JSON show.
func (m Money) Decimal() string {
	neg := m < 0
	u := uint64(m)
	if neg {
		u = -u // Two's complement: also right for math.MinInt64.
	}
	whole, frac := u/uint64(USD), u%uint64(USD)
	s := strconv.FormatUint(whole, 10)
	if frac != 0 {
		f := strings.TrimRight(fmt.Sprintf("%09d", frac), "0")
		s += "." + f
	}
	if neg {
		s = "-" + s
	}
	return s
}

// String returns m as "$2.5", for logs and messages.
func (m Money) String() string {
	if d := m.Decimal(); d[0] == '-' {
		return "-$" + d[1:]
	}
	return "$" + m.Decimal()
}

// MarshalJSON writes m as a JSON number in USD, exactly ("2.5"), never through a float.
func (m Money) MarshalJSON() ([]byte, error) { return []byte(m.Decimal()), nil }

// UnmarshalJSON reads a JSON number or string in USD exactly.
func (m *Money) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := ParseUSD(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// wide is an unsigned 128-bit accumulator for Σ tokens × price-per-million, so that a
// cost is divided, and rounded, once.
type wide struct{ hi, lo uint64 }

// addMul adds tokens × price to w; negative inputs count as zero.
func (w *wide) addMul(tokens int64, price Money) {
	if tokens <= 0 || price <= 0 {
		return
	}
	hi, lo := bits.Mul64(uint64(tokens), uint64(price))
	var c uint64
	w.lo, c = bits.Add64(w.lo, lo, 0)
	w.hi, _ = bits.Add64(w.hi, hi, c)
}

// perMillion returns w / 1,000,000 rounded half up, saturating at the largest Money.
func (w wide) perMillion() Money {
	const million = 1_000_000
	lo, c := bits.Add64(w.lo, million/2, 0)
	hi, _ := bits.Add64(w.hi, 0, c)
	if hi >= million {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, million)
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return Money(q)
}
