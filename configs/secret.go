package configs

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tollgate-llm/tollgate/schema"
)

// Why a SecretRef could not be read. None of these carry the written value: for a
// literal that value is the secret itself.
const (
	problemLiteral = "literal secrets are not allowed in config"
	problemEnv     = `"env:" must be followed by an environment variable name (letters, digits, _)`
	problemFile    = `"file:" must be followed by a path`
	problemShape   = `expected a string "env:NAME" or "file:PATH"`
)

// SecretRef says where a credential is read from: "env:NAME" (an environment
// variable) or "file:PATH" (a file, trailing newline ignored). The reference itself is
// not secret and prints as written; a SecretRef never holds a credential. A literal
// read from YAML or text is remembered only as "literal" (its value is dropped at
// once) so Validate can refuse it.
type SecretRef struct {
	kind    string // "env" or "file"; empty for the zero value or a problem
	target  string // variable name or path
	problem string // one of the problem* constants
}

// EnvRef refers to the environment variable name.
func EnvRef(name string) SecretRef { return parseRef("env:" + name) }

// FileRef refers to the file at path.
func FileRef(path string) SecretRef { return parseRef("file:" + path) }

// ParseSecretRef parses "env:NAME" or "file:PATH". Its error never repeats s.
func ParseSecretRef(s string) (SecretRef, error) {
	r := parseRef(s)
	if r.IsZero() {
		return r, errors.New(`empty secret reference: use "env:NAME" or "file:PATH"`)
	}
	if r.problem != "" {
		return SecretRef{}, errors.New(r.problem + `; use "env:NAME" or "file:PATH"`)
	}
	return r, nil
}

func parseRef(s string) SecretRef {
	if s == "" {
		return SecretRef{}
	}
	kind, rest, _ := strings.Cut(s, ":")
	switch kind {
	case "env":
		if !validEnvName(rest) {
			return SecretRef{problem: problemEnv}
		}
		return SecretRef{kind: "env", target: rest}
	case "file":
		if rest == "" {
			return SecretRef{problem: problemFile}
		}
		return SecretRef{kind: "file", target: rest}
	}
	return SecretRef{problem: problemLiteral}
}

func validEnvName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range s {
		if c != '_' && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Kind returns "env", "file", or "" when r is empty or invalid.
func (r SecretRef) Kind() string { return r.kind }

// Name returns the variable name or file path r refers to.
func (r SecretRef) Name() string { return r.target }

// IsZero reports whether nothing was written.
func (r SecretRef) IsZero() bool { return r == SecretRef{} }

// String returns the reference as written ("env:OPENAI_API_KEY"), which is not secret.
func (r SecretRef) String() string {
	switch {
	case r.kind != "":
		return r.kind + ":" + r.target
	case r.problem == problemLiteral:
		return "[literal refused]"
	case r.problem != "":
		return "[invalid reference]"
	}
	return ""
}

// GoString returns the same as String.
func (r SecretRef) GoString() string { return r.String() }

// LogValue returns the reference for slog.
func (r SecretRef) LogValue() slog.Value { return slog.StringValue(r.String()) }

// MarshalText returns the reference; JSON encodes it as a string through this.
func (r SecretRef) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses a reference; a literal is kept only as a refusal.
func (r *SecretRef) UnmarshalText(b []byte) error {
	*r = parseRef(string(b))
	return nil
}

// MarshalYAML returns the reference.
func (r SecretRef) MarshalYAML() (any, error) { return r.String(), nil }

// UnmarshalYAML parses a reference. It never fails, so that decoding goes on and
// Validate can name the field; anything but an env: or file: string is remembered
// as a problem, without its value.
func (r *SecretRef) UnmarshalYAML(n *yaml.Node) error {
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null":
		*r = SecretRef{}
	case n.Kind != yaml.ScalarNode:
		*r = SecretRef{problem: problemShape}
	case n.ShortTag() != "!!str":
		*r = SecretRef{problem: problemLiteral}
	default:
		*r = parseRef(n.Value)
	}
	return nil
}

// Resolve reads the credential from the process environment or the file.
func (r SecretRef) Resolve() (schema.Secret, error) { return r.ResolveWith(os.Getenv) }

// ResolveWith reads the credential, looking environment variables up with getenv.
// Errors name the reference, never a value.
func (r SecretRef) ResolveWith(getenv func(string) string) (schema.Secret, error) {
	switch r.kind {
	case "env":
		v := getenv(r.target)
		if v == "" {
			return schema.Secret{}, fmt.Errorf("secret %s: environment variable %s is not set", r, r.target)
		}
		return schema.NewSecret(v), nil
	case "file":
		b, err := os.ReadFile(r.target)
		if err != nil {
			return schema.Secret{}, fmt.Errorf("secret %s: %w", r, err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return schema.Secret{}, fmt.Errorf("secret %s: file is empty", r)
		}
		return schema.NewSecret(v), nil
	}
	if r.problem != "" {
		return schema.Secret{}, errors.New("secret reference is invalid: " + r.problem)
	}
	return schema.Secret{}, errors.New("no secret reference")
}
