package providertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

// The helpers below are the golden-file plumbing of the dialects' own tests; each
// dialect keeps its -update flag and passes its value.

// Golden compares got with the file at path, or rewrites the file when update is set.
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
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

// Indent pretty-prints JSON for a readable golden file, with a final newline.
func Indent(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// Cases returns the base names, without suffix, of testdata/<dir>/*<suffix>; none is a
// failure.
func Cases(t testing.TB, dir, suffix string) []string {
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

// maxDrained bounds the chunks Drain reads: a stream that goes on longer does not end.
const maxDrained = 10000

// Drain reads st until it fails and returns a copy of every chunk (streams may reuse
// their buffers) and the error it ended with, io.EOF or an *apierr.Error; any other
// error fails t.
func Drain(t testing.TB, st schema.Stream) ([][]byte, error) {
	t.Helper()
	var chunks [][]byte
	for {
		b, err := st.Next()
		if err != nil {
			var e *apierr.Error
			if !errors.Is(err, io.EOF) && !errors.As(err, &e) {
				t.Fatalf("Next: %T %v is neither io.EOF nor *apierr.Error", err, err)
			}
			return chunks, err
		}
		chunks = append(chunks, append([]byte(nil), b...))
		if len(chunks) > maxDrained+1 {
			t.Fatal("the stream does not end")
		}
	}
}

// Seeds adds every testdata file matching pattern (e.g. "streams/*.sse") to f's corpus.
func Seeds(f *testing.F, pattern string) {
	f.Helper()
	paths, _ := filepath.Glob(filepath.Join("testdata", pattern))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// Transcript drains st and renders it for a golden file, one line each: every chunk,
// "# usage", then "# end: EOF" or "# error: " and what describe says of the error.
func Transcript(t testing.TB, st schema.Stream, describe func(e *apierr.Error) string) []byte {
	t.Helper()
	chunks, end := Drain(t, st)
	var out bytes.Buffer
	for _, b := range chunks {
		out.Write(b)
		out.WriteByte('\n')
	}
	u, ok := st.Usage()
	fmt.Fprintf(&out, "# usage %v: %+v\n", ok, u)
	var e *apierr.Error
	switch {
	case errors.Is(end, io.EOF):
		out.WriteString("# end: EOF\n")
	case errors.As(end, &e):
		fmt.Fprintf(&out, "# error: %s\n", describe(e))
	}
	return out.Bytes()
}

// GoldenFiles runs a subtest for each testdata/<dir>/<name><in> that compares what
// translate makes of the file with testdata/<dir>/<name><out>.
func GoldenFiles(t *testing.T, dir, in, out string, update bool, translate func(t *testing.T, raw []byte) []byte) {
	t.Helper()
	for _, name := range Cases(t, dir, in) {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", dir, name+in))
			if err != nil {
				t.Fatal(err)
			}
			Golden(t, filepath.Join("testdata", dir, name+out), translate(t, raw), update)
		})
	}
}

// WantUnsupported fails t unless every err is a 400 unsupported_endpoint whose message
// names provider.
func WantUnsupported(t testing.TB, provider string, errs ...error) {
	t.Helper()
	for i, err := range errs {
		var e *apierr.Error
		if !errors.As(err, &e) || e.Status != 400 || e.Code != "unsupported_endpoint" || !strings.Contains(e.Message, provider) {
			t.Errorf("%d: %v, want 400 unsupported_endpoint naming %s", i, err, provider)
		}
	}
}
