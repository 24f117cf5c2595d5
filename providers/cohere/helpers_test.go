package cohere

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/providers"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixedNow is the clock of every test client.
var fixedNow = time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)

// testClient is a client with a fixed clock and ids, pointed at base.
func testClient(t testing.TB, base string) *Client {
	t.Helper()
	p, err := New(providers.Config{Name: "cohere", BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	c := p.(*Client)
	c.now = func() time.Time { return fixedNow }
	return c
}

// golden compares got with the file at path, or rewrites the file with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n got: %s\nwant: %s", path, got, want)
	}
}

// indent pretty-prints JSON for a readable golden file.
func indent(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// cases returns the base names of testdata/<dir>/*<suffix>.
func cases(t *testing.T, dir, suffix string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*"+suffix))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test cases in testdata/%s (%v)", dir, err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = filepath.Base(f)[:len(filepath.Base(f))-len(suffix)]
	}
	return names
}
