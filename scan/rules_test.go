package scan

import (
	"fmt"
	"hash/crc32"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

const (
	tokenChars = base62 + "_-"
	base32     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	digits     = "0123456789"
	hexChars   = "0123456789abcdef"
	letters    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	base64     = base62 + "+/"
	// openAIMarker is base64 of "OpenAI", which OpenAI keys embed.
	openAIMarker = "T3BlbkFJ"
)

// githubToken builds a GitHub token with a valid checksum. The samples are made at run
// time so that this repository holds nothing a secret scanner would flag.
func githubToken(rng *rand.Rand, prefix string) string {
	body := randString(rng, 30)
	return prefix + body + githubCRC(body)
}

// githubCRC is the six base62 characters of the CRC32 of body, computed with math/big
// rather than the division loop GitHubChecksumOK uses.
func githubCRC(body string) string {
	v := new(big.Int).SetUint64(uint64(crc32.ChecksumIEEE([]byte(body))))
	s := v.Text(62) // math/big's base62 digits are 0-9a-zA-Z
	var out strings.Builder
	for _, c := range strings.Repeat("0", 6-len(s)) + s {
		switch {
		case c >= 'a' && c <= 'z':
			out.WriteRune(c - 'a' + 'A')
		case c >= 'A' && c <= 'Z':
			out.WriteRune(c - 'A' + 'a')
		default:
			out.WriteRune(c)
		}
	}
	return out.String()
}

// providerSamples make one key of each provider kind.
var providerSamples = []struct {
	kind string
	make func(rng *rand.Rand) string
}{
	{KindOpenAIProject, func(r *rand.Rand) string {
		return "sk-proj-" + randFrom(r, tokenChars, 74) + openAIMarker + randFrom(r, tokenChars, 74)
	}},
	{KindOpenAIServiceAccount, func(r *rand.Rand) string {
		return "sk-svcacct-" + randFrom(r, tokenChars, 58) + openAIMarker + randFrom(r, tokenChars, 58)
	}},
	{KindOpenAIAdmin, func(r *rand.Rand) string {
		return "sk-admin-" + randFrom(r, tokenChars, 58) + openAIMarker + randFrom(r, tokenChars, 58)
	}},
	{KindOpenAILegacy, func(r *rand.Rand) string { return "sk-" + randString(r, 20) + openAIMarker + randString(r, 20) }},
	{KindAnthropic, func(r *rand.Rand) string { return "sk-ant-api03-" + randFrom(r, tokenChars, 93) + "AA" }},
	{KindAnthropicAdmin, func(r *rand.Rand) string { return "sk-ant-admin01-" + randFrom(r, tokenChars, 93) + "AA" }},
	{KindGoogle, func(r *rand.Rand) string { return "AIzaSy" + randFrom(r, tokenChars, 33) }},
	{KindAWSAccessKeyID, func(r *rand.Rand) string { return "AKIA" + randFrom(r, base32, 16) }},
	{KindAWSAccessKeyID, func(r *rand.Rand) string { return "ASIA" + randFrom(r, base32, 16) }},
	{KindGitHubPAT, func(r *rand.Rand) string { return githubToken(r, "ghp_") }},
	{KindGitHubOAuth, func(r *rand.Rand) string { return githubToken(r, "gho_") }},
	{KindGitHubUserToServer, func(r *rand.Rand) string { return githubToken(r, "ghu_") }},
	{KindGitHubServerToServer, func(r *rand.Rand) string { return githubToken(r, "ghs_") }},
	{KindGitHubRefresh, func(r *rand.Rand) string { return githubToken(r, "ghr_") }},
	{KindGitHubFineGrained, func(r *rand.Rand) string {
		return "github_pat_" + randString(r, 22) + "_" + randString(r, 59)
	}},
	{KindSlack, func(r *rand.Rand) string {
		return "xoxb-" + randFrom(r, digits, 11) + "-" + randFrom(r, digits, 12) + "-" + randString(r, 24)
	}},
	{KindSlack, func(r *rand.Rand) string {
		return "xoxp-" + randFrom(r, digits, 11) + "-" + randFrom(r, digits, 11) + "-" + randFrom(r, digits, 12) +
			"-" + randFrom(r, hexChars, 32)
	}},
	{KindStripeSecret, func(r *rand.Rand) string { return "sk_live_" + randString(r, 99) }},
	{KindStripeRestricted, func(r *rand.Rand) string { return "rk_live_" + randString(r, 99) }},
	{KindGroq, func(r *rand.Rand) string { return "gsk_" + randString(r, 52) }},
	{KindXAI, func(r *rand.Rand) string { return "xai-" + randString(r, 80) }},
	{KindHuggingFace, func(r *rand.Rand) string { return "hf_" + randFrom(r, letters, 34) }},
}

// TestProviderKeysAreFound plants many keys of each provider kind, in several
// contexts, and expects each exactly once with its kind, place and redacted hint.
func TestProviderKeysAreFound(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	wrap := []func(string) string{
		func(s string) string { return "export API_KEY=" + s },
		func(s string) string { return `{"key":"` + s + `"}` },
		func(s string) string { return "token: '" + s + "'" },
		func(s string) string { return s },
	}
	for _, sample := range providerSamples {
		t.Run(sample.kind, func(t *testing.T) {
			var ls, secrets []string
			for i := range 200 {
				s := sample.make(rng)
				secrets = append(secrets, s)
				ls = append(ls, wrap[i%len(wrap)](s))
			}
			s := newFileScan("f", "")
			lines([]byte(strings.Join(ls, "\n")), s.line)
			found := s.done()
			if len(found) != len(secrets) {
				t.Fatalf("found %d of %d; first line %q", len(found), len(secrets), ls[0])
			}
			for i, f := range found {
				sec := secrets[i]
				if f.Kind != sample.kind || f.Line != i+1 || f.Column != strings.Index(ls[i], sec)+1 ||
					f.Hint != sec[:4]+"…"+sec[len(sec)-4:] {
					t.Fatalf("line %d: %+v", i+1, f)
				}
			}
		})
	}
}

// TestLookAlikesAreNotReported feeds strings that resemble provider keys and are not:
// missing markers, wrong lengths, wrong checksums, placeholders, documentation
// examples, test-mode keys.
func TestLookAlikesAreNotReported(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 50 {
		good := githubToken(rng, "ghp_")
		bad := good[:39] + string(base62[(strings.IndexByte(base62, good[39])+1+i%61)%62])
		lookAlikes := []string{
			"sk-proj-" + randFrom(rng, tokenChars, 100),
			"sk-" + randString(rng, 48),
			"sk-proj-CLIrotatedKEYdoNotUse0123456789abcdefghij",
			"sk-ant-api03-" + randFrom(rng, tokenChars, 93) + "AB",
			"sk-ant-api03-" + randFrom(rng, tokenChars, 50) + "AA",
			"AIza" + randFrom(rng, tokenChars, 34),
			"AIza" + randString(rng, 36),
			"AIza" + strings.Repeat("x", 35),
			"AKIA" + strings.ToLower(randFrom(rng, base32, 16)),
			"AKIA" + "IOSFODNN7EXAMPLE",
			"AKIA" + strings.Repeat("A", 16),
			"AKIA" + randFrom(rng, base32, 17),
			bad,
			"ghp_" + randString(rng, 35),
			"github_pat_" + strings.Repeat("x", 22) + "_" + strings.Repeat("y", 59),
			"xoxb-your-bot-token-here",
			"xoxb-123-abc",
			"sk_test_" + randString(rng, 30),
			"sk_live_" + strings.Repeat("x", 24),
			"gsk_" + randString(rng, 51),
			"gsk_" + randString(rng, 53),
			"xai-" + randString(rng, 79),
			"hf_" + randString(rng, 33),
			"hf_" + strings.Repeat("x", 34),
			randFrom(rng, base64, 40),                          // an AWS secret key shape with no key id near it
			strings.Repeat("0123456789abcdef", 2) + "01234567", // a git object id
		}
		for _, l := range lookAlikes {
			s := newFileScan("f", "")
			s.line(1, []byte("value = "+l+" "))
			if f := s.done(); len(f) > 0 {
				t.Fatalf("reported %q as %s", l, f[0].Kind)
			}
		}
	}
}

// TestGitHubChecksum checks GitHubChecksumOK against tokens published as valid by
// ripsecrets' tests (split so that this file does not itself look like a leak) and
// against every single-character change of them.
func TestGitHubChecksum(t *testing.T) {
	for _, tok := range []string{
		"ghp_" + "M7H4jxUDDWHP4kZ6A4dxlQYsQIWJuq11T4V4",
		"ghp_" + "HEEjXavM6wKtyhAUwDblMznMEhWyTt4XwY6f",
		"ghp_" + "yk8LTIKF7M9SgRPBFzu7nkPQBBLcAa2aAbrx",
		"ghp_" + "vKdQ4XtRZOBFd16YZEgyLKyQ8Cee4g2NJ0mT",
	} {
		if !GitHubChecksumOK([]byte(tok)) {
			t.Errorf("%s…: checksum rejected", tok[:8])
		}
		for i := 4; i < len(tok); i++ {
			for _, c := range []byte(base62) {
				if c == tok[i] {
					continue
				}
				if GitHubChecksumOK([]byte(tok[:i] + string(c) + tok[i+1:])) {
					t.Fatalf("a change at %d passes the checksum", i)
				}
			}
		}
	}
}

// TestAWSSecretsOnlyNearAnID checks that a 40-character AWS secret is reported within
// four lines of an access key id, before or after it, once, and never alone.
func TestAWSSecretsOnlyNearAnID(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	id := func() string { return "AKIA" + randFrom(rng, base32, 16) }
	secret := func() string { return randString(rng, 20) + "/" + randString(rng, 9) + "+" + randString(rng, 9) }
	for _, tc := range []struct {
		name    string
		lines   []string
		secrets int
	}{
		{"credentials file", []string{"[default]", "aws_access_key_id = " + id(), "aws_secret_access_key = " + secret()}, 1},
		{"same line", []string{"AWS " + id() + ":" + secret()}, 1},
		{"secret first", []string{"secret=" + secret(), "", "", "", "id=" + id()}, 1},
		{"between two ids", []string{"a=" + id(), "s=" + secret(), "b=" + id()}, 1},
		{"too far", []string{"id=" + id(), "", "", "", "", "", "secret=" + secret()}, 0},
		{"alone", []string{"secret=" + secret(), "hash=" + randFrom(rng, hexChars, 40)}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newFileScan("f", "")
			lines([]byte(strings.Join(tc.lines, "\n")), s.line)
			n := 0
			for _, f := range s.done() {
				if f.Kind == KindAWSSecretKey {
					n++
				}
			}
			if n != tc.secrets {
				t.Fatalf("%d AWS secrets reported, want %d: %v", n, tc.secrets, fmt.Sprint(s.findings))
			}
		})
	}
}
