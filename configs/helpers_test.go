package configs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fakeEnv returns a getenv that reads only vars, never the process environment.
func fakeEnv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// writeConfig writes body to tollgate.yaml in a fresh temporary directory.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tollgate.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fieldErrors flattens a joined error into its *FieldError parts.
func fieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(e error) {
		if fe, ok := e.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, c := range j.Unwrap() {
				walk(c)
			}
			return
		}
		if u := errors.Unwrap(e); u != nil {
			walk(u)
		}
	}
	walk(err)
	return out
}

// findField returns the error about path, or nil.
func findField(err error, path string) *FieldError {
	for _, fe := range fieldErrors(err) {
		if fe.Path == path {
			return fe
		}
	}
	return nil
}
