package keys

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestMatchModel(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"*", "gpt-4o", true},
		{"*", "meta-llama/llama-3-70b", true}, // '*' crosses '/'
		{"*", "", true},
		{"gpt-4o*", "gpt-4o", true},
		{"gpt-4o*", "gpt-4o-mini", true},
		{"gpt-4o*", "gpt-4", false},
		{"gpt-4o", "gpt-4o-mini", false},
		{"gpt-?o", "gpt-4o", true},
		{"gpt-?o", "gpt-40o", false},
		{"*mini", "gpt-4o-mini", true},
		{"*-*-*", "a-b-c", true},
		{"*-*-*", "a-b", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"openrouter/*", "openrouter/anthropic/claude", true},
		{"openrouter/*", "groq/llama", false},
	} {
		if got := MatchModel(tc.pattern, tc.name); got != tc.want {
			t.Errorf("MatchModel(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

func TestCovers(t *testing.T) {
	for _, tc := range []struct {
		parents []string
		child   string
		want    bool
	}{
		{[]string{"*"}, "anything*", true},
		{[]string{"*"}, "?", true},
		{[]string{"gpt-4o*"}, "gpt-4o-mini", true},
		{[]string{"gpt-4o*"}, "gpt-4o-*", true},
		{[]string{"gpt-4o*"}, "gpt-4o*", true},
		{[]string{"gpt-4o*"}, "gpt-4*", false}, // would allow gpt-4-turbo
		{[]string{"gpt-4o*"}, "*", false},
		{[]string{"gpt-4o*"}, "gpt-?o", false}, // would allow gpt-3o
		{[]string{"gpt-?o*"}, "gpt-4o-mini", true},
		{[]string{"gpt-?o"}, "gpt-?o", true},
		{[]string{"gpt-?o"}, "gpt-*o", false},
		{[]string{"gpt-4o-mini"}, "gpt-4o-mini", true},
		{[]string{"gpt-4o-mini"}, "gpt-4o-mini*", false},
		{[]string{"claude-*", "gpt-4o*"}, "gpt-4o-mini", true},
		{[]string{"claude-*"}, "gpt-4o-mini", false},
		{[]string{"*mini"}, "gpt-*-mini", true},
		{[]string{"a*"}, "*a", false},
		{nil, "gpt-4o", false},
	} {
		if got := Covers(tc.parents, tc.child); got != tc.want {
			t.Errorf("Covers(%q, %q) = %v, want %v", tc.parents, tc.child, got, tc.want)
		}
	}
}

// TestCoversIsSound draws random pattern pairs; whenever Covers says the parent covers
// the child, every random instance of the child must match the parent. It also checks
// the check is not uselessly strict: it accepts a good share of pairs where the child
// is the parent with characters replaced by narrower ones.
func TestCoversIsSound(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ab*?"
	randPattern := func() string {
		var b strings.Builder
		for range rng.IntN(6) {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	instance := func(p string) string {
		var b strings.Builder
		for i := range len(p) {
			switch p[i] {
			case '*':
				for range rng.IntN(4) {
					b.WriteByte("abc/"[rng.IntN(4)])
				}
			case '?':
				b.WriteByte("abc/"[rng.IntN(4)])
			default:
				b.WriteByte(p[i])
			}
		}
		return b.String()
	}
	covered := 0
	for range 20000 {
		parent, child := randPattern(), randPattern()
		if !Covers([]string{parent}, child) {
			continue
		}
		covered++
		for range 20 {
			if name := instance(child); !MatchModel(parent, name) {
				t.Fatalf("Covers(%q, %q) but %q matches the child and not the parent", parent, child, name)
			}
		}
	}
	if covered < 1000 {
		t.Fatalf("only %d of 20000 random pairs covered: the check refuses too much", covered)
	}
}

func TestCheckPattern(t *testing.T) {
	for _, p := range []string{"", "gpt-[45]o", `gpt\*`, " gpt", "gpt "} {
		if checkPattern(p) == nil {
			t.Errorf("pattern %q accepted", p)
		}
	}
	for _, p := range []string{"*", "gpt-4o*", "meta-llama/*", "model?v2", "a.b_c:d@e"} {
		if err := checkPattern(p); err != nil {
			t.Errorf("pattern %q refused: %v", p, err)
		}
	}
}
