package keys

import (
	"errors"
	"strconv"
	"strings"
)

// NanosPerUSD is the number of nano-USD in a dollar; money is int64 nano-USD.
const NanosPerUSD = 1_000_000_000

// errUSD is a malformed amount of money.
var errUSD = errors.New("must be a non-negative decimal amount of USD with at most 9 decimals, such as 10 or 0.25")

// ParseUSD reads a decimal amount of USD ("10", "0.25") into nano-USD exactly, without
// floating point. Exponents, signs and more than nine decimals are refused.
func ParseUSD(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 9 || strings.Contains(s, ".") && frac == "" {
		return 0, errUSD
	}
	for _, part := range []string{whole, frac} {
		if strings.IndexFunc(part, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
			return 0, errUSD
		}
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > (1<<63-1)/NanosPerUSD-1 {
		return 0, errUSD
	}
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	}
	return w*NanosPerUSD + f, nil
}

// FormatUSD writes nano-USD as a decimal amount of USD without trailing zeros.
func FormatUSD(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	s := strconv.FormatInt(n/NanosPerUSD, 10)
	if frac := n % NanosPerUSD; frac != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(frac+NanosPerUSD, 10)[1:], "0")
	}
	return sign + s
}
