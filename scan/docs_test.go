package scan

import (
	"fmt"
	"hash/crc32"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/tollgate-llm/tollgate/keys"
)

// documentedInvalid is the one key-shaped string docs/key-format.md shows as invalid.
const documentedInvalid = "tgk_000000000000_0123456789ABCDEFGHIJabcdefghijKL0iAlVe"

// TestDocumentedVectors keeps docs/key-format.md true: every key it shows is well
// formed, except the one it says is not; each CRC32 it states is that of the key's
// body; and tollgate scan reports none of them (the documentation key id).
func TestDocumentedVectors(t *testing.T) {
	data, err := os.ReadFile("../docs/key-format.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	found := regexp.MustCompile(`tg[kea]_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}`).FindAllString(doc, -1)
	valid := 0
	for _, k := range found {
		_, err := keys.Parse(k)
		switch {
		case k == documentedInvalid && err == nil:
			t.Errorf("%s is documented as invalid but parses", k)
		case k != documentedInvalid && err != nil:
			t.Errorf("documented key %s does not parse", k)
		case err == nil:
			valid++
		}
	}
	if valid < 6 {
		t.Errorf("%d valid documented keys", valid)
	}
	rows := regexp.MustCompile("`(tg[kea]_[0-9A-Za-z]{12}_[0-9A-Za-z]{38})` \\| `0x([0-9A-F]{8})`").FindAllStringSubmatch(doc, -1)
	for _, r := range rows {
		if got := fmt.Sprintf("%08X", crc32.ChecksumIEEE([]byte(r[1][:keys.KeyLen-6]))); got != r[2] {
			t.Errorf("%s: documented CRC32 0x%s, computed 0x%s", r[1], r[2], got)
		}
	}
	if len(rows) != 5 {
		t.Errorf("%d test vector rows", len(rows))
	}
	s := newFileScan("doc", "")
	lines(data, s.line)
	for _, f := range s.done() {
		if f.IsTollgate() {
			t.Errorf("the documentation key is reported: %s", f.Location())
		}
	}
}

// gitleaksConfig is the part of a gitleaks config the rule uses.
type gitleaksConfig struct {
	Extend struct{ UseDefault bool }
	Rules  []struct {
		ID          string
		Regex       string
		SecretGroup int
		Entropy     float64
		Keywords    []string
		Allowlists  []struct {
			RegexTarget string
			Regexes     []string
		}
	}
}

// TestGitleaksRule checks configs/gitleaks.toml with Go's regexp (the engine gitleaks
// uses): the rule finds generated keys of every kind as its secret group, passes its
// entropy floor and keywords, allows the documentation key id and nothing else, and
// matches the regex docs/key-format.md publishes.
func TestGitleaksRule(t *testing.T) {
	data, err := os.ReadFile("../configs/gitleaks.toml")
	if err != nil {
		t.Fatal(err)
	}
	var c gitleaksConfig
	if err := toml.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	if !c.Extend.UseDefault || len(c.Rules) != 1 || len(c.Rules[0].Allowlists) != 1 {
		t.Fatalf("config %+v", c)
	}
	r := c.Rules[0]
	if r.ID != "tollgate-key" || r.Regex != `\b(tg[kea]_[0-9A-Za-z]{12}_[0-9A-Za-z]{38})\b` || r.SecretGroup != 1 {
		t.Fatalf("rule %+v", r)
	}
	re := regexp.MustCompile(r.Regex)
	allow := regexp.MustCompile(r.Allowlists[0].Regexes[0])
	for _, kind := range []keys.Kind{keys.KindClient, keys.KindEphemeral, keys.KindAdmin} {
		for range 1000 {
			key, _, _ := keys.Generate(kind)
			m := re.FindStringSubmatch(`KEY="` + key + `"`)
			if m == nil || m[1] != key || entropy([]byte(key)) < r.Entropy || allow.MatchString(key) ||
				!strings.Contains(strings.Join(r.Keywords, " "), key[:4]) {
				t.Fatalf("the gitleaks rule misses a %s key", kind)
			}
		}
	}
	if !allow.MatchString(documentedInvalid) || r.Allowlists[0].RegexTarget != "secret" {
		t.Error("the allowlist does not cover the documentation key id")
	}
}
