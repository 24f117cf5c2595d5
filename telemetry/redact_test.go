package telemetry

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// checkPrecheck fails when the pattern finds a secret in s that the cheap pre-check
// would have let through unredacted.
func checkPrecheck(t *testing.T, s string) {
	t.Helper()
	if secretPattern.MatchString(s) && !mayHoldSecret(s) {
		t.Fatalf("pre-check passes %q, which holds a secret", s)
	}
}

func TestPrecheckNeverMissesASecret(t *testing.T) {
	// Random strings built from pieces of the shapes, separators and near misses.
	pieces := []string{"tgk_", "tge_", "tga_", "sk-", "proj-", "ant-", "api03-", "AIza", "AKIA", "ASIA", "gsk_",
		"xai-", "bearer", "Bearer", "BEARER", " ", "\t", "\n", "\r", "\f", "\v", ":", ",", "\"", "abcdefgh",
		"ABCDEFGH", "01234567", "_", "-", ".", "~", "+", "/", "=", "é", "a"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 50000 {
		var b strings.Builder
		for range 2 + r.IntN(14) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		checkPrecheck(t, b.String())
	}
}

func FuzzPrecheckNeverMissesASecret(f *testing.F) {
	for _, s := range []string{"Authorization: Bearer abcdef0123456789abcdef", "x sk-abcdefghijklmnopqrstuvwxyz012345",
		"bearer\t\tAAAAAAAAAAAAAAAA", "AKIAIOSFODNN7EXAMPLE", "/v1/chat/completions", "req_0123456789abcdef01234567"} {
		f.Add(s)
	}
	f.Fuzz(checkPrecheck)
}
