package keys

import (
	"regexp"
	"strings"
	"testing"
)

// keyRegex is the regex API.md publishes for scanners.
var keyRegex = regexp.MustCompile(`\btg[kea]_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}\b`)

func TestGeneratedKeysParseAndMatchThePublishedRegex(t *testing.T) {
	seen := map[string]bool{}
	for _, kind := range []Kind{KindClient, KindEphemeral, KindAdmin} {
		for range 2000 {
			key, id, err := Generate(kind)
			if err != nil {
				t.Fatal(err)
			}
			if len(key) != KeyLen || !strings.HasPrefix(key, kind.Prefix()) {
				t.Fatalf("bad shape %d", len(key))
			}
			if !keyRegex.MatchString(key) {
				t.Fatal("generated key does not match the published regex")
			}
			p, err := Parse(key)
			if err != nil || p.Kind != kind || p.ID != id {
				t.Fatalf("parse: %v %+v", err, p)
			}
			if seen[key] {
				t.Fatal("duplicate key")
			}
			seen[key] = true
		}
	}
}

// TestChecksumVectors pins the checksum byte-exactly so scanners can reimplement it.
func TestChecksumVectors(t *testing.T) {
	for _, tc := range []struct{ body, crc string }{
		{"tgk_000000000000_00000000000000000000000000000000", "3NRRTX"}, // CRC32 0xb876d1cb
		{"", "000000"},
		{"a", "4GEHKN"},         // CRC32("a") = 0xe8b7be43
		{"123456789", "3jZRME"}, // the CRC32 check value 0xcbf43926
	} {
		if got := Checksum(tc.body); got != tc.crc {
			t.Errorf("Checksum(%q) = %s, want %s", tc.body, got, tc.crc)
		}
	}
}

func TestEverySingleCharacterChangeIsRejected(t *testing.T) {
	key, _, _ := Generate(KindClient)
	for i := 4; i < KeyLen; i++ {
		if key[i] == '_' {
			continue
		}
		for _, c := range []byte(alphabet) {
			if c == key[i] {
				continue
			}
			mutated := key[:i] + string(c) + key[i+1:]
			if _, err := Parse(mutated); err == nil {
				t.Fatalf("mutation at %d accepted", i)
			}
		}
	}
}

func TestRandomStringsOfTheSameShapeAreRejected(t *testing.T) {
	accepted := 0
	for range 20000 {
		k, _, _ := Generate(KindClient)
		// Replace the checksum with random characters of the same alphabet.
		fake, _ := appendRandom([]byte(k[:KeyLen-crcLen]), crcLen)
		if string(fake) == k {
			continue
		}
		if _, err := Parse(string(fake)); err == nil {
			accepted++
		}
	}
	if accepted > 0 {
		t.Fatalf("%d random checksums accepted", accepted)
	}
}

func TestParseRejectsMalformed(t *testing.T) {
	key, _, _ := Generate(KindClient)
	for name, s := range map[string]string{
		"empty":      "",
		"short":      key[:KeyLen-1],
		"long":       key + "a",
		"bad prefix": "tgx" + key[3:],
		"sk prefix":  "sk-" + key[3:],
		"no sep":     key[:16] + "x" + key[17:],
		"non base62": key[:20] + "-" + key[21:],
		"unicode":    key[:20] + "é" + key[22:],
	} {
		if _, err := Parse(s); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestHintRevealsNoSecret(t *testing.T) {
	key, id, _ := Generate(KindClient)
	h := Hint(key)
	if !strings.Contains(h, id) || strings.Contains(h, key[17:17+secretLen]) {
		t.Fatalf("hint %q", h)
	}
}
