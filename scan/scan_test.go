package scan

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/keys"
)

// TestFindsEveryPlantedTollgateKey plants hundreds of valid keys in varied files and
// contexts and expects every one of them, at its exact line and column, and nothing
// else; keys in places a scan skips (binary files, files over the size limit, links
// out of the tree, .git) are not reported.
func TestFindsEveryPlantedTollgateKey(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	root := t.TempDir()
	want := plantKeys(t, rng, root, 600)

	skipped, _, _ := keys.Generate(keys.KindClient)
	outside := t.TempDir()
	writeLines(t, outside, "secret.txt", "\n", []string{skipped})
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(root, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "linkdir")); err != nil {
		t.Fatal(err)
	}
	writeLines(t, root, ".git/config", "\n", []string{skipped})
	writeLines(t, root, "image.bin", "\n", []string{"\x89PNG\x00\x00", skipped})
	writeLines(t, root, "big.txt", "\n", []string{strings.Repeat("x", 2<<20), skipped})

	r := scanOK(t, Options{MaxFileSize: 1 << 20}, root)
	got := map[string]Finding{}
	for _, f := range r.Findings {
		if _, dup := got[f.KeyID]; dup || f.KeyID == "" {
			t.Errorf("unexpected finding %+v", f)
		}
		got[f.KeyID] = f
	}
	for id, p := range want {
		f, ok := got[id]
		if !ok {
			t.Errorf("missed key %s at %s:%d", id, p.path, p.line)
			continue
		}
		if f.Path != p.path || f.Line != p.line || f.Column != p.column || f.Kind != p.kind {
			t.Errorf("key %s: found %s:%d:%d %s, planted at %s:%d:%d %s", id, f.Path, f.Line, f.Column, f.Kind,
				p.path, p.line, p.column, p.kind)
		}
		if f.Hint != p.secret[:17]+"…" {
			t.Errorf("hint %q", f.Hint)
		}
	}
	if len(got) != len(want) {
		t.Errorf("found %d keys, planted %d", len(got), len(want))
	}
	if r.Stats.Binary != 1 || r.Stats.TooLarge != 1 || r.Stats.Symlinks != 2 || r.Stats.Files != len(fileKinds) {
		t.Errorf("stats %+v", r.Stats)
	}
	secrets := []string{skipped}
	for _, p := range want {
		secrets = append(secrets, p.secret)
	}
	noSecretIn(t, r, secrets)
}

// TestNoFalsePositivesOnWrongChecksums writes thousands of strings of the exact key
// shape whose checksum is wrong, and every single-character change of valid keys, and
// expects nothing.
func TestNoFalsePositivesOnWrongChecksums(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var ls []string
	for len(ls) < 5000 {
		body := "tg" + string("kea"[rng.IntN(3)]) + "_" + randString(rng, 12) + "_" + randString(rng, 32)
		crc := randString(rng, 6)
		if crc == keys.Checksum(body) {
			continue
		}
		ls = append(ls, contexts[rng.IntN(len(contexts)-1)](body+crc))
	}
	for range 50 {
		key, _, _ := keys.Generate(keys.KindClient)
		for i := 4; i < keys.KeyLen; i++ {
			if key[i] == '_' {
				continue
			}
			c := base62[rng.IntN(62)]
			if c == key[i] {
				c = base62[(strings.IndexByte(base62, c)+1)%62]
			}
			ls = append(ls, "k="+key[:i]+string(c)+key[i+1:])
		}
	}
	root := t.TempDir()
	writeLines(t, root, "lookalikes.txt", "\n", ls)
	r := scanOK(t, Options{}, root)
	if len(r.Findings) != 0 {
		t.Fatalf("%d false positives among %d look-alikes, first %+v", len(r.Findings), len(ls), r.Findings[0])
	}
}

func TestScanErrors(t *testing.T) {
	r := Scan(t.Context(), []string{filepath.Join(t.TempDir(), "missing")}, Options{})
	if len(r.Errors) != 1 {
		t.Fatalf("errors %v", r.Errors)
	}
	r = Scan(t.Context(), []string{t.TempDir()}, Options{History: true})
	if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Error(), "git") {
		t.Fatalf("history outside a repository: %v", r.Errors)
	}
}
