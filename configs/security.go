package configs

import (
	"fmt"
	"os"
	"strings"
)

// Security configures how tollgate answers reports of leaked keys.
type Security struct {
	// TokenAlertKeys are the public keys that sign leaked-token reports sent to
	// POST /admin/v1/security/token-alerts in GitHub's secret scanning partner format.
	// Take them from https://api.github.com/meta/public_keys/secret_scanning (each
	// key_identifier and key). They are read at start and never fetched. Empty: the
	// endpoint does not exist.
	TokenAlertKeys []TokenAlertKey `yaml:"token_alert_keys"`
}

// TokenAlertKey is one public key that may sign token alerts.
type TokenAlertKey struct {
	// ID is the key identifier a report names in its GITHUB-PUBLIC-KEY-IDENTIFIER header.
	ID string `yaml:"id"`
	// PEM is the ECDSA P-256 public key in PEM ("-----BEGIN PUBLIC KEY-----" ...), or
	// "file:PATH" to read it from a file. A public key is not a secret, so it may be
	// written here.
	PEM string `yaml:"pem"`
}

const pemHeader = "-----BEGIN PUBLIC KEY-----"

// Read returns the key's PEM, reading the file it names if it names one.
func (k TokenAlertKey) Read() ([]byte, error) {
	if path, ok := strings.CutPrefix(k.PEM, "file:"); ok {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("token alert key %q: %w", k.ID, err)
		}
		return data, nil
	}
	return []byte(k.PEM), nil
}

// security checks the token alert keys' shape; the keys themselves are parsed at start.
func (v *validator) security() {
	ids := map[string]int{}
	for i, k := range v.c.Security.TokenAlertKeys {
		path := fmt.Sprintf("security.token_alert_keys[%d]", i)
		if first, dup := ids[k.ID]; dup {
			v.add(path+".id", "duplicate key identifier (also token_alert_keys[%d])", first)
		} else if k.ID == "" {
			v.add(path+".id", "is required: the GITHUB-PUBLIC-KEY-IDENTIFIER the key signs under")
		}
		ids[k.ID] = i
		file, isFile := strings.CutPrefix(k.PEM, "file:")
		switch {
		case isFile && file == "":
			v.add(path+".pem", `"file:" must be followed by a path`)
		case !isFile && !strings.Contains(k.PEM, pemHeader):
			v.add(path+".pem", "must be a PEM public key (%s ...) or file:PATH", pemHeader)
		}
	}
}
