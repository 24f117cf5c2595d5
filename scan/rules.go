package scan

import (
	"bytes"
	"hash/crc32"
	"math"
	"regexp"

	"github.com/tollgate-llm/tollgate/keys"
)

// The kinds of secret a scan reports.
const (
	KindTollgateClient    = "tollgate_client_key"
	KindTollgateEphemeral = "tollgate_ephemeral_key"
	KindTollgateAdmin     = "tollgate_admin_token"

	KindOpenAIProject        = "openai_project_key"
	KindOpenAIServiceAccount = "openai_service_account_key"
	KindOpenAIAdmin          = "openai_admin_key"
	KindOpenAILegacy         = "openai_api_key"
	KindAnthropic            = "anthropic_api_key"
	KindAnthropicAdmin       = "anthropic_admin_key"
	KindGoogle               = "google_api_key"
	KindAWSAccessKeyID       = "aws_access_key_id"
	KindAWSSecretKey         = "aws_secret_access_key"
	KindGitHubPAT            = "github_personal_access_token"
	KindGitHubOAuth          = "github_oauth_token"
	KindGitHubUserToServer   = "github_user_to_server_token"
	KindGitHubServerToServer = "github_server_to_server_token"
	KindGitHubRefresh        = "github_refresh_token"
	KindGitHubFineGrained    = "github_fine_grained_pat"
	KindSlack                = "slack_token"
	KindStripeSecret         = "stripe_secret_key"
	KindStripeRestricted     = "stripe_restricted_key"
	KindGroq                 = "groq_api_key"
	KindXAI                  = "xai_api_key"
	KindHuggingFace          = "huggingface_token"
)

// rule finds one family of secrets in a line.
type rule struct {
	// keywords: one of them must occur in a line for the regex to run at all (a
	// cheap filter); none means always.
	keywords []string
	re       *regexp.Regexp
	// kind names what a match is; kindOf, when set, decides from the match.
	kind   string
	kindOf func(m []byte) string
	// body is the character class of the secret: a match that the line continues
	// with one of these characters is part of something longer and is not reported.
	body func(c byte) bool
	// loose skips the left boundary check; only checksum-validated rules may.
	loose bool
	// minEntropy is the least Shannon entropy, in bits per character, of the match:
	// placeholders such as "sk_live_xxxxxxxx" fall below it.
	minEntropy float64
	// valid, when set, is a further check: a checksum or a known example.
	valid func(m []byte) bool
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

func isWord(c byte) bool { return isAlnum(c) || c == '_' }

func isToken(c byte) bool { return isWord(c) || c == '-' }

func isBase64(c byte) bool { return isAlnum(c) || c == '/' || c == '+' || c == '=' }

// DocumentationKeyID is the key id reserved for documentation and test vectors
// (docs/key-format.md): keys with it are never reported. A generated id is 12 random
// base62 characters, so no real key has it.
const DocumentationKeyID = "000000000000"

// tollgateRule finds tollgate keys. It matches without word boundaries (a key glued to
// other text, or after "%22" in a URL, is still found) because keys.Parse then checks
// the CRC32: a string that passes is a tollgate key, whatever surrounds it.
var tollgateRule = rule{
	keywords: []string{"tgk_", "tge_", "tga_"},
	re:       regexp.MustCompile(`tg[kea]_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}`),
	kindOf: func(m []byte) string {
		p, err := keys.Parse(string(m))
		if err != nil || p.ID == DocumentationKeyID {
			return ""
		}
		switch p.Kind {
		case keys.KindClient:
			return KindTollgateClient
		case keys.KindEphemeral:
			return KindTollgateEphemeral
		}
		return KindTollgateAdmin
	},
	body:  func(byte) bool { return false },
	loose: true,
}

// awsSecretRule finds AWS secret access key candidates; they are reported only near an
// access key id (see fileScan), since alone the shape is any 40 base64 characters.
var awsSecretRule = rule{
	re:         regexp.MustCompile(`[A-Za-z0-9/+]{40}`),
	kind:       KindAWSSecretKey,
	body:       isBase64,
	minEntropy: 4,
	valid: func(m []byte) bool {
		var upper, lower, digit bool
		for _, c := range m {
			upper = upper || c >= 'A' && c <= 'Z'
			lower = lower || c >= 'a' && c <= 'z'
			digit = digit || c >= '0' && c <= '9'
		}
		return upper && lower && digit && !bytes.Contains(m, []byte("EXAMPLE"))
	},
}

// providerRules are the well-known provider key formats. The regexes follow the
// providers' published prefixes and the gitleaks and trufflehog rules.
var providerRules = []rule{
	{keywords: []string{"sk-"}, re: regexp.MustCompile(`sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,300}T3BlbkFJ[A-Za-z0-9_-]{20,300}`),
		kindOf: byPrefix(map[string]string{"sk-proj-": KindOpenAIProject, "sk-svcacct-": KindOpenAIServiceAccount,
			"sk-admin-": KindOpenAIAdmin}), body: isToken, minEntropy: 3},
	{keywords: []string{"T3BlbkFJ"}, re: regexp.MustCompile(`sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}`),
		kind: KindOpenAILegacy, body: isAlnum, minEntropy: 3},
	{keywords: []string{"sk-ant-"}, re: regexp.MustCompile(`sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{93}AA`),
		kindOf: byPrefix(map[string]string{"sk-ant-api03-": KindAnthropic, "sk-ant-admin01-": KindAnthropicAdmin}),
		body:   isToken, minEntropy: 3},
	{keywords: []string{"AIza"}, re: regexp.MustCompile(`AIza[0-9A-Za-z_-]{35}`), kind: KindGoogle, body: isToken, minEntropy: 3.5},
	{keywords: []string{"AKIA", "ASIA"}, re: regexp.MustCompile(`(?:AKIA|ASIA)[A-Z2-7]{16}`), kind: KindAWSAccessKeyID, body: isAlnum,
		minEntropy: 3, valid: func(m []byte) bool { return !bytes.HasSuffix(m, []byte("EXAMPLE")) }},
	{keywords: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}, re: regexp.MustCompile(`gh[pousr]_[0-9A-Za-z]{36}`),
		kindOf: byPrefix(map[string]string{"ghp_": KindGitHubPAT, "gho_": KindGitHubOAuth, "ghu_": KindGitHubUserToServer,
			"ghs_": KindGitHubServerToServer, "ghr_": KindGitHubRefresh}), body: isAlnum, valid: GitHubChecksumOK},
	{keywords: []string{"github_pat_"}, re: regexp.MustCompile(`github_pat_[0-9A-Za-z]{22}_[0-9A-Za-z]{59}`),
		kind: KindGitHubFineGrained, body: isWord, minEntropy: 3},
	{keywords: []string{"xox"}, re: regexp.MustCompile(`xox[baprs]-[0-9]{1,15}(?:-[0-9]{1,15}){0,3}-[0-9A-Za-z]{10,64}`),
		kind: KindSlack, body: isToken, minEntropy: 3},
	{keywords: []string{"k_live_"}, re: regexp.MustCompile(`[sr]k_live_[0-9A-Za-z]{10,247}`),
		kindOf: byPrefix(map[string]string{"sk_": KindStripeSecret, "rk_": KindStripeRestricted}), body: isAlnum, minEntropy: 3},
	{keywords: []string{"gsk_"}, re: regexp.MustCompile(`gsk_[0-9A-Za-z]{52}`), kind: KindGroq, body: isWord, minEntropy: 3.5},
	{keywords: []string{"xai-"}, re: regexp.MustCompile(`xai-[0-9A-Za-z_]{80}`), kind: KindXAI, body: isWord, minEntropy: 3.5},
	{keywords: []string{"hf_"}, re: regexp.MustCompile(`hf_[0-9A-Za-z]{34}`), kind: KindHuggingFace, body: isWord, minEntropy: 3},
}

// byPrefix names a match by the first of prefixes it starts with.
func byPrefix(prefixes map[string]string) func([]byte) string {
	return func(m []byte) string {
		for p, kind := range prefixes {
			if bytes.HasPrefix(m, []byte(p)) {
				return kind
			}
		}
		return ""
	}
}

// match is one secret found in a line: its kind and its byte span.
type match struct {
	kind       string
	start, end int
}

// find returns the matches of r in line.
func (r *rule) find(line []byte) []match {
	if !r.wanted(line) {
		return nil
	}
	var out []match
	for _, loc := range r.re.FindAllIndex(line, -1) {
		start, end := loc[0], loc[1]
		if !r.loose && start > 0 && isAlnum(line[start-1]) || end < len(line) && r.body(line[end]) {
			continue
		}
		m := line[start:end]
		if r.minEntropy > 0 && entropy(m) < r.minEntropy || r.valid != nil && !r.valid(m) {
			continue
		}
		kind := r.kind
		if r.kindOf != nil {
			kind = r.kindOf(m)
		}
		if kind != "" {
			out = append(out, match{kind: kind, start: start, end: end})
		}
	}
	return out
}

// wanted reports whether line holds one of the rule's keywords.
func (r *rule) wanted(line []byte) bool {
	for _, k := range r.keywords {
		if bytes.Contains(line, []byte(k)) {
			return true
		}
	}
	return len(r.keywords) == 0
}

// entropy is the Shannon entropy of s in bits per character.
func entropy(s []byte) float64 {
	var counts [256]int
	for _, c := range s {
		counts[c]++
	}
	h, n := 0.0, float64(len(s))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// GitHubChecksumOK checks the checksum of a GitHub token in the 2021 format
// (ghp_, gho_, ghu_, ghs_, ghr_): its last 6 characters are the CRC32 (IEEE) of the 30
// random characters between the prefix and them, in base62 (0-9A-Za-z), left-padded
// with '0'. GitHub described the scheme in "Behind GitHub's new authentication token
// formats" (2021); this is how scanners such as CredSweeper and ripsecrets check it.
func GitHubChecksumOK(token []byte) bool {
	if len(token) != 40 || token[3] != '_' {
		return false
	}
	v := crc32.ChecksumIEEE(token[4:34])
	want := []byte("000000")
	for i := 5; i >= 0 && v > 0; i-- {
		want[i] = base62[v%62]
		v /= 62
	}
	return bytes.Equal(want, token[34:])
}
