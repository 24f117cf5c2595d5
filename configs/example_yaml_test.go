package configs

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/providers/registry"
)

// TestExampleConfig loads tollgate.example.yaml. Provider types whose dialect is not
// registered yet (anthropic, groq, ollama while the catalog is being filled in) are
// the only errors tolerated, and only as errors on that provider's type field; the
// test becomes strict for each type as soon as it is registered.
func TestExampleConfig(t *testing.T) {
	const path = "tollgate.example.yaml"
	c, err := LoadWith(path, fakeEnv(nil))
	if err == nil {
		checkExample(t, c)
		return
	}
	c = &Config{File: path}
	if derr := c.decodeFile(); derr != nil {
		t.Fatalf("decoding the example: %v", derr)
	}
	c.SetDefaults()
	for _, fe := range fieldErrors(c.Validate()) {
		if !pendingType(t, c, fe) {
			t.Errorf("example: %v", fe)
		}
	}
	if len(fieldErrors(err)) == 0 {
		t.Errorf("example: %v", err)
	}
	checkExample(t, c)
}

// pendingType reports whether fe is about a provider type not registered yet.
func pendingType(t *testing.T, c *Config, fe *FieldError) bool {
	for i, p := range c.Providers {
		if fe.Path == fmt.Sprintf("providers[%d].type", i) && !registry.Known(p.Type) {
			t.Logf("tolerated until %q is registered: %v", p.Type, fe)
			return true
		}
	}
	return false
}

func checkExample(t *testing.T, c *Config) {
	t.Helper()
	if len(c.Providers) != 4 || len(c.Models) != 4 {
		t.Errorf("example has %d providers and %d models", len(c.Providers), len(c.Models))
	}
	if c.Providers[0].Keys[1].Secret.String() != "file:/run/secrets/openai_backup" {
		t.Errorf("key reference = %v", c.Providers[0].Keys[1].Secret)
	}
	if p := c.Models[3].Pricing; p == nil || p.InputPerMTok != "0.02" {
		t.Errorf("pricing = %+v", p)
	}
}

// TestExampleHasNoSecrets guards the example against a pasted key.
func TestExampleHasNoSecrets(t *testing.T) {
	c := &Config{File: "tollgate.example.yaml"}
	if err := c.decodeFile(); err != nil {
		t.Fatal(err)
	}
	key := regexp.MustCompile(`\b(sk-[A-Za-z0-9_-]{16,}|gsk_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_-]{20,})`)
	if s := fmt.Sprint(c.Providers); key.MatchString(s) || strings.Contains(s, "literal") {
		t.Errorf("example holds a secret: %s", s)
	}
	c.SetDefaults()
	for _, fe := range fieldErrors(c.Validate()) {
		if strings.HasSuffix(fe.Path, ".secret") {
			t.Errorf("example: %v", fe)
		}
	}
}
