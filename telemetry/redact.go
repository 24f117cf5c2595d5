package telemetry

import (
	"regexp"
	"strings"
)

// secretPattern matches tollgate keys and the well-known provider key shapes.
var secretPattern = regexp.MustCompile(
	`tg[kea]_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}` + // tollgate keys
		`|sk-(?:proj-|svcacct-|admin-|ant-[a-z0-9]+-)?[A-Za-z0-9_\-]{20,}` + // OpenAI, Anthropic, DeepSeek
		`|AIza[0-9A-Za-z_\-]{35}` + // Google
		`|(?:AKIA|ASIA)[0-9A-Z]{16}` + // AWS access key ids
		`|gsk_[A-Za-z0-9]{20,}` + // Groq
		`|xai-[A-Za-z0-9]{20,}` + // xAI
		`|(?i:bearer)\s+[A-Za-z0-9._~+/=\-]{16,}`) // any bearer credential

// minSecretRun is the shortest run of token characters ([A-Za-z0-9_-.~+/=], see
// isTokenChar) that any pattern above can match: every shape is at least this long
// without a break.
const minSecretRun = 16

// Redact replaces anything in s that looks like a secret with a marker.
func Redact(s string) string {
	if !mayHoldSecret(s) {
		return s
	}
	return secretPattern.ReplaceAllString(s, "[REDACTED]")
}

// HasSecret reports whether s holds anything that looks like a secret.
func HasSecret(s string) bool {
	return mayHoldSecret(s) && secretPattern.MatchString(s)
}

// markers are what every shape the pattern matches starts with, bearer aside.
var markers = []string{"tgk_", "tge_", "tga_", "sk-", "AIza", "AKIA", "ASIA", "gsk_", "xai-"}

// mayHoldSecret is a cheap pre-check so that ordinary strings skip the regexp, in one
// pass over s: every secret shape is a run of at least minSecretRun token characters
// that holds one of the markers, or follows "bearer" and white space. It never says no
// to a string the pattern matches.
func mayHoldSecret(s string) bool {
	start := 0
	for i := 0; i < len(s); i++ {
		if isTokenChar(s[i]) {
			continue
		}
		if i-start >= minSecretRun && runMayBeSecret(s, start, i) {
			return true
		}
		start = i + 1
	}
	return len(s)-start >= minSecretRun && runMayBeSecret(s, start, len(s))
}

// runMayBeSecret reports whether the run of token characters s[start:end] holds a
// marker or follows "bearer" and white space (the pattern's \s: tab, newline, form
// feed, carriage return, space).
func runMayBeSecret(s string, start, end int) bool {
	run := s[start:end]
	for _, m := range markers {
		if strings.Contains(run, m) {
			return true
		}
	}
	j := start
	for j > 0 && (s[j-1] == ' ' || s[j-1] == '\t' || s[j-1] == '\n' || s[j-1] == '\f' || s[j-1] == '\r') {
		j--
	}
	return j < start && j >= len("bearer") && strings.EqualFold(s[j-len("bearer"):j], "bearer")
}

func isTokenChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' ||
		c == '_' || c == '-' || c == '.' || c == '~' || c == '+' || c == '/' || c == '='
}
