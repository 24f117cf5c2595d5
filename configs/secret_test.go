package configs

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const literalKey = "sk-proj-THISISASECRETVALUE1234"

func TestParseSecretRef(t *testing.T) {
	tests := []struct {
		in       string
		kind     string
		name     string
		wantErr  bool
		errMatch string
	}{
		{in: "env:OPENAI_API_KEY", kind: "env", name: "OPENAI_API_KEY"},
		{in: "file:/run/secrets/openai", kind: "file", name: "/run/secrets/openai"},
		{in: "file:relative/key.txt", kind: "file", name: "relative/key.txt"},
		{in: literalKey, wantErr: true, errMatch: "literal secrets"},
		{in: "env:", wantErr: true, errMatch: "environment variable name"},
		{in: "env:" + literalKey, wantErr: true, errMatch: "environment variable name"},
		{in: "env:1ABC", wantErr: true, errMatch: "environment variable name"},
		{in: "file:", wantErr: true, errMatch: "path"},
		{in: "ENV:OPENAI_API_KEY", wantErr: true, errMatch: "literal"},
		{in: "", wantErr: true, errMatch: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseSecretRef(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseSecretRef(%q) = %v, want error", tt.in, r)
				}
				if !strings.Contains(err.Error(), tt.errMatch) {
					t.Errorf("error %q does not mention %q", err, tt.errMatch)
				}
				if strings.Contains(err.Error(), literalKey) {
					t.Errorf("error leaks the value: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSecretRef(%q): %v", tt.in, err)
			}
			if r.Kind() != tt.kind || r.Name() != tt.name || r.String() != tt.in {
				t.Errorf("got kind %q name %q string %q", r.Kind(), r.Name(), r.String())
			}
		})
	}
}

func TestSecretRefYAMLNeverKeepsLiteral(t *testing.T) {
	tests := []struct{ name, doc string }{
		{"string", "secret: " + literalKey},
		{"quoted", `secret: "` + literalKey + `"`},
		{"number", "secret: 1234567890123"},
		{"mapping", "secret: {value: " + literalKey + "}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var k ProviderKey
			if err := yaml.Unmarshal([]byte(tt.doc), &k); err != nil {
				t.Fatal(err)
			}
			if k.Secret.Kind() != "" || k.Secret.problem == "" {
				t.Fatalf("secret accepted: %#v", k.Secret)
			}
			if _, err := k.Secret.Resolve(); err == nil {
				t.Fatal("Resolve of a refused secret succeeded")
			}
			for _, s := range []string{fmt.Sprintf("%v %+v %#v %s", k, k, k, k.Secret), mustJSON(t, k)} {
				if strings.Contains(s, literalKey) || strings.Contains(s, "1234567890123") {
					t.Errorf("value printed: %s", s)
				}
			}
		})
	}
}

func TestSecretRefPrintsReference(t *testing.T) {
	r := EnvRef("OPENAI_API_KEY")
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("k", "ref", r)
	for name, got := range map[string]string{
		"String":   r.String(),
		"GoString": fmt.Sprintf("%#v", r),
		"JSON":     mustJSON(t, r),
		"slog":     logged.String(),
	} {
		if !strings.Contains(got, "env:OPENAI_API_KEY") {
			t.Errorf("%s = %q, want the reference", name, got)
		}
	}
}

func TestSecretRefResolve(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := fakeEnv(map[string]string{"MY_KEY": "from-env"})
	tests := []struct {
		name    string
		ref     SecretRef
		want    string
		wantErr string
	}{
		{"env", EnvRef("MY_KEY"), "from-env", ""},
		{"env missing", EnvRef("NOT_SET"), "", "env:NOT_SET"},
		{"file", FileRef(write("k", "from-file\n")), "from-file", ""},
		{"file crlf", FileRef(write("crlf", "from-file\r\n")), "from-file", ""},
		{"file no newline", FileRef(write("plain", "from-file")), "from-file", ""},
		{"file empty", FileRef(write("empty", "\n")), "", "empty"},
		{"file missing", FileRef(filepath.Join(dir, "nope")), "", "file:" + filepath.Join(dir, "nope")},
		{"zero", SecretRef{}, "", "no secret reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.ref.ResolveWith(env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Reveal() != tt.want {
				t.Errorf("got %q, want %q", got.Reveal(), tt.want)
			}
		})
	}
}

func TestSecretRefResolveProcessEnv(t *testing.T) {
	t.Setenv("TOLLGATE_TEST_SECRET_REF", "v")
	got, err := EnvRef("TOLLGATE_TEST_SECRET_REF").Resolve()
	if err != nil || got.Reveal() != "v" {
		t.Fatalf("Resolve = %q, %v", got.Reveal(), err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
