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

// minSecretRun is the shortest run of token characters ([A-Za-z0-9_-.~+/=]) that any
// pattern above can match: every shape is at least this long without a break.
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

// mayHoldSecret is a cheap pre-check so that ordinary strings skip the regexp: every
// secret shape is a run of at least minSecretRun token characters, and starts with a
// marker or follows "bearer".
func mayHoldSecret(s string) bool {
	if !hasLongRun(s) {
		return false
	}
	for _, m := range markers {
		if strings.Contains(s, m) {
			return true
		}
	}
	return containsFold(s, "bearer")
}

// hasLongRun reports whether s has a run of at least minSecretRun token characters.
func hasLongRun(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || isTokenPunct(c) {
			if run++; run >= minSecretRun {
				return true
			}
			continue
		}
		run = 0
	}
	return false
}

func isTokenPunct(c byte) bool {
	return c == '_' || c == '-' || c == '.' || c == '~' || c == '+' || c == '/' || c == '='
}

// containsFold reports whether s contains the lower-case ASCII word w in any case.
func containsFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i]|0x20 == w[0] && strings.EqualFold(s[i:i+len(w)], w) {
			return true
		}
	}
	return false
}
