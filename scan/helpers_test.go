package scan

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/keys"
)

// planted is a secret written into a test file and where it was written.
type planted struct {
	secret, kind string
	path         string
	line, column int
	commit       string
}

// contexts are the ways a key appears in a line: config formats, code, URLs, glued to
// other text, alone, at the end of a very long line.
var contexts = []func(k string) string{
	func(k string) string { return `{"api_key": "` + k + `", "model": "gpt-4o"}` },
	func(k string) string { return "TOLLGATE_KEY=" + k },
	func(k string) string { return "  api_key: " + k },
	func(k string) string { return `	client := openai.NewClient(option.WithAPIKey("` + k + `"))` },
	func(k string) string { return "curl -H 'Authorization: Bearer " + k + "' https://gw.example/v1/models" },
	func(k string) string { return "https://gw.example/v1/models?api_key=" + k + "&x=1" },
	func(k string) string { return "body=%7B%22key%22%3A%22" + k + "%22%7D" },
	func(k string) string { return "my_" + k + "_old" },
	func(k string) string { return "glued" + k + "glued" },
	func(k string) string { return "# " + k },
	func(k string) string { return k },
	func(k string) string { return strings.Repeat("ab", 40_000) + " " + k },
}

// fileKinds are names and line endings of the files keys are planted in.
var fileKinds = []struct{ name, eol string }{
	{"main.go", "\n"}, {"config/app.yaml", "\n"}, {".env", "\n"}, {"deep/a/b/c/notes.md", "\r\n"},
	{"data.json", "\n"}, {"scripts/run", "\n"}, {"nb/analysis.ipynb", "\r\n"}, {"logs/app.log", "\n"},
}

// writeLines writes lines to root/name, the last line without an ending.
func writeLines(t *testing.T, root, name, eol string, ls []string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Join(ls, eol)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// plantKeys generates n tollgate keys of every kind and writes them into files under
// root (with filler lines between them), at most three on a line. It returns where each
// key went, by key id.
func plantKeys(t *testing.T, rng *rand.Rand, root string, n int) map[string]planted {
	t.Helper()
	out := map[string]planted{}
	kinds := []keys.Kind{keys.KindClient, keys.KindEphemeral, keys.KindAdmin}
	files := map[string][]string{}
	for i := 0; i < n; {
		fk := fileKinds[rng.IntN(len(fileKinds))]
		ls := files[fk.name]
		for range rng.IntN(3) {
			ls = append(ls, "filler line "+randString(rng, 20))
		}
		var line strings.Builder
		for j := range 1 + rng.IntN(3) {
			key, id, err := keys.Generate(kinds[(i+j)%3])
			if err != nil {
				t.Fatal(err)
			}
			if j > 0 {
				line.WriteString(", ")
			}
			text := contexts[rng.IntN(len(contexts))](key)
			col := line.Len() + strings.Index(text, key) + 1
			line.WriteString(text)
			out[id] = planted{secret: key, kind: tollgateKind(kinds[(i+j)%3]), path: filepath.Join(root, fk.name),
				line: len(ls) + 1, column: col}
			i++
		}
		files[fk.name] = append(ls, line.String())
	}
	for _, fk := range fileKinds {
		writeLines(t, root, fk.name, fk.eol, files[fk.name])
	}
	return out
}

func tollgateKind(k keys.Kind) string {
	switch k {
	case keys.KindClient:
		return KindTollgateClient
	case keys.KindEphemeral:
		return KindTollgateEphemeral
	}
	return KindTollgateAdmin
}

// randString returns n random base62 characters.
func randString(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = base62[rng.IntN(62)]
	}
	return string(b)
}

// randFrom returns n random characters of alphabet.
func randFrom(rng *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// scanOK scans paths and fails the test on any error.
func scanOK(t *testing.T, o Options, paths ...string) *Report {
	t.Helper()
	r := Scan(context.Background(), paths, o)
	for _, err := range r.Errors {
		t.Errorf("scan error: %v", err)
	}
	return r
}

// noSecretIn fails if the report, as JSON, holds any secret part of the secrets.
func noSecretIn(t *testing.T, r *Report, secrets []string) {
	t.Helper()
	data, err := json.Marshal(r.Findings)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if strings.Contains(string(data), s[len(s)-12:]) {
			t.Fatalf("the report holds a secret (…%s)", s[len(s)-4:])
		}
	}
}
